#include <azl/integration/token_cache.hpp>

namespace azl::integration
{

namespace
{

std::chrono::system_clock::time_point from_unix(std::int64_t s)
{
    return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

} // namespace

TokenCache::TokenCache(std::chrono::seconds min_remaining, std::chrono::milliseconds negative_ttl)
    : m_min_remaining(min_remaining)
    , m_negative_ttl(negative_ttl)
{
}

CacheHit TokenCache::find(const std::string& key, std::chrono::system_clock::time_point now) const
{
    const auto it = m_entries.find(key);
    if (it == m_entries.end())
    {
        return {};
    }
    const Entry& e = it->second;
    // A clock stepped backwards must not stretch a remembered failure.
    if (e.error && now < e.error_until && now >= e.error_since)
    {
        return &*e.error;
    }
    if (e.token && from_unix(e.token->expires_on) - now > m_min_remaining)
    {
        return &*e.token;
    }
    return {};
}

void TokenCache::store(
    const std::string& key, const AccessToken& token, std::chrono::system_clock::time_point now)
{
    Entry& e = m_entries[key];
    e.error.reset();
    if (from_unix(token.expires_on) - now > m_min_remaining)
    {
        e.token = token;
    }
    else
    {
        e.token.reset();
    }
}

void TokenCache::store_error(
    const std::string& key, const HostError& error, std::chrono::system_clock::time_point now)
{
    Entry& e = m_entries[key];
    e.error = CachedError{error.kind(), error.what()};
    e.error_since = now;
    e.error_until = now + m_negative_ttl;
    // A failure means the host no longer vouches for the old token (signed out, tenant removed).
    e.token.reset();
}

std::size_t TokenCache::prune(std::chrono::system_clock::time_point now)
{
    for (auto it = m_entries.begin(); it != m_entries.end();)
    {
        if (std::holds_alternative<std::monostate>(find(it->first, now)))
        {
            it = m_entries.erase(it);
        }
        else
        {
            ++it;
        }
    }
    return m_entries.size();
}

std::vector<CacheEntryInfo> TokenCache::entries(std::chrono::system_clock::time_point now) const
{
    std::vector<CacheEntryInfo> out;
    for (const auto& [key, e] : m_entries)
    {
        if (e.token && from_unix(e.token->expires_on) - now > m_min_remaining)
        {
            out.push_back(
                {key,
                 std::chrono::duration_cast<std::chrono::seconds>(
                     from_unix(e.token->expires_on) - now)
                     .count()});
        }
    }
    return out;
}

} // namespace azl::integration
