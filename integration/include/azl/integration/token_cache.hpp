#pragma once

#include <azl/integration/token.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace azl::integration
{

// A cached host failure: what the clients are told, until it expires.
struct CachedError
{
    HostErrorKind kind = HostErrorKind::failed;
    std::string message;
};

// What the cache holds for a key right now: nothing, a fresh token or a remembered failure. The
// pointers point into the cache (nothing is copied on the server's hot path) and stay valid until
// the cache next changes.
using CacheHit = std::variant<std::monostate, const AccessToken*, const CachedError*>;

// One entry as `status` shows it (never the token).
struct CacheEntryInfo
{
    std::string key;
    std::int64_t expires_in = 0; // seconds until the token expires
};

// Access tokens per (resource or scope, tenant), served while more than `min_remaining` of their
// life is left; failures are remembered for `negative_ttl` so a storm of requests cannot start a
// storm of host processes. Not thread-safe: the server's event loop owns it.
class TokenCache
{
public:
    // Defaults: tokens served while > 5 minutes left; failures remembered 5 seconds.
    explicit TokenCache(
        std::chrono::seconds min_remaining = std::chrono::minutes(5),
        std::chrono::milliseconds negative_ttl = std::chrono::seconds(5));

    // The fresh token or the remembered failure for `key` at wall-clock time `now`: one lookup.
    [[nodiscard]] CacheHit
    find(const std::string& key, std::chrono::system_clock::time_point now) const;

    // Remembers a token; one that is already too close to expiry is not cached.
    void store(
        const std::string& key,
        const AccessToken& token,
        std::chrono::system_clock::time_point now);

    // Remembers a failure for the negative TTL.
    void store_error(
        const std::string& key, const HostError& error, std::chrono::system_clock::time_point now);

    // Drops expired entries; returns how many remain.
    std::size_t prune(std::chrono::system_clock::time_point now);

    // The servable tokens with their remaining lifetimes, by key.
    [[nodiscard]] std::vector<CacheEntryInfo>
    entries(std::chrono::system_clock::time_point now) const;

private:
    struct Entry
    {
        std::optional<AccessToken> token;
        std::optional<CachedError> error;
        std::chrono::system_clock::time_point error_until{};
        std::chrono::system_clock::time_point error_since{};
    };

    std::chrono::seconds m_min_remaining;
    std::chrono::milliseconds m_negative_ttl;
    std::map<std::string, Entry> m_entries;
};

} // namespace azl::integration
