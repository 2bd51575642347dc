#include <azl/oobe/answers.hpp>
#include <azl/oobe/layers.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

namespace azl::oobe
{

using nlohmann::json;

namespace
{

// Sections merged key by key; every other key is one value.
constexpr std::array<std::string_view, 3> kObjectSections = {"user", "proxy", "bridge"};
// Lists that accumulate across layers.
constexpr std::array<std::string_view, 5> kListSections = {
    "ca_certificates", "repositories", "packages", "files", "run"};

bool contains(const auto& list, std::string_view key)
{
    return std::find(list.begin(), list.end(), key) != list.end();
}

std::string normalise_lock(std::string_view key)
{
    std::string out = key.starts_with('/') ? std::string(key) : "/" + std::string(key);
    std::replace(out.begin(), out.end(), '.', '/'); // "user.sudo" as well as "/user/sudo"
    while (out.size() > 1 && out.back() == '/')
    {
        out.pop_back();
    }
    return out;
}

// Whether `pointer` is `lock` or lies under it.
bool under(std::string_view pointer, std::string_view lock)
{
    return pointer == lock
           || (pointer.starts_with(lock) && pointer.size() > lock.size()
               && pointer[lock.size()] == '/');
}

// `key` as one JSON pointer token: '~' and '/' escaped (RFC 6901).
std::string pointer_token(std::string_view key)
{
    std::string out;
    for (const char c : key)
    {
        out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    }
    return out;
}

// Whether two entries of list `section` are the same entry (the lower one is then dropped).
bool same_entry(std::string_view section, const json& a, const json& b)
{
    if ((section == "ca_certificates" || section == "repositories") && a.is_object()
        && b.is_object() && a.contains("name") && b.contains("name"))
    {
        return a["name"] == b["name"];
    }
    if (section == "files" && a.is_object() && b.is_object() && a.contains("path")
        && b.contains("path") && !a.value("append", false) && !b.value("append", false))
    {
        return a["path"] == b["path"]; // the higher layer's content replaces the file
    }
    return a == b;
}

class Merger
{
public:
    explicit Merger(MergedAnswers& out)
        : m_out(out)
    {
    }

    void add(std::size_t index)
    {
        const Layer& layer = m_out.layers[index];
        for (const auto& [key, value] : layer.document.items())
        {
            if (key == "version" || key == "$schema")
            {
                continue;
            }
            const std::string pointer = "/" + key;
            if (refused(pointer, layer))
            {
                continue;
            }
            if (contains(kObjectSections, key) && value.is_object())
            {
                add_object(index, key, value);
            }
            else if (contains(kListSections, key) && value.is_array())
            {
                add_list(index, key, value);
            }
            else if (!m_out.document.contains(key))
            {
                m_out.document[key] = value;
                m_out.provenance[pointer] = index;
            }
        }
        for (const auto& lock : layer.locked)
        {
            m_locks.emplace_back(lock, index);
        }
    }

private:
    bool refused(const std::string& pointer, const Layer& layer)
    {
        const auto lock = std::find_if(
            m_locks.begin(),
            m_locks.end(),
            [&pointer](const auto& l) { return under(pointer, l.first); });
        if (lock == m_locks.end())
        {
            return false;
        }
        m_out.refusals.push_back(
            {.key = pointer, .origin = layer.origin, .policy = m_out.layers[lock->second].origin});
        return true;
    }

    void add_object(std::size_t index, const std::string& section, const json& value)
    {
        json& target = m_out.document[section];
        if (!target.is_object())
        {
            target = json::object();
        }
        for (const auto& [key, item] : value.items())
        {
            const std::string pointer = fmt::format("/{}/{}", section, pointer_token(key));
            if (refused(pointer, m_out.layers[index]) || target.contains(key))
            {
                continue;
            }
            target[key] = item;
            m_out.provenance[pointer] = index;
        }
    }

    void add_list(std::size_t index, const std::string& section, const json& value)
    {
        json& target = m_out.document[section];
        if (!target.is_array())
        {
            target = json::array();
        }
        for (const auto& item : value)
        {
            const bool seen = std::any_of(
                target.begin(),
                target.end(),
                [&](const json& have) { return same_entry(section, have, item); });
            if (!seen)
            {
                m_out.provenance[fmt::format("/{}/{}", section, target.size())] = index;
                target.push_back(item);
            }
        }
    }

    MergedAnswers& m_out;
    std::vector<std::pair<std::string, std::size_t>> m_locks;
};

std::string redact_credentials(const std::string& url)
{
    const auto scheme = url.find("://");
    const auto at = url.find('@');
    if (scheme == std::string::npos || at == std::string::npos || at < scheme)
    {
        return url;
    }
    return url.substr(0, scheme + 3) + "(set)@" + url.substr(at + 1);
}

json shown_value(const std::string& pointer, const json& value)
{
    if (pointer == "/user/password" || pointer == "/user/password_hash"
        || pointer.starts_with("/run/"))
    {
        return "(set)";
    }
    if (pointer.starts_with("/proxy/") && value.is_string())
    {
        return redact_credentials(value.get<std::string>());
    }
    if (pointer.starts_with("/ca_certificates/") && value.is_object() && value.contains("pem"))
    {
        json copy = value;
        copy["pem"] = "(set)";
        return copy;
    }
    if (pointer.starts_with("/files/") && value.is_object())
    {
        // File content can carry tokens and keys: shown as (set), like run commands.
        json copy = value;
        for (const auto* key : {"content", "content_base64"})
        {
            if (copy.contains(key))
            {
                copy[key] = "(set)";
            }
        }
        return copy;
    }
    return value;
}

} // namespace

std::string_view layer_name(LayerKind kind) noexcept
{
    switch (kind)
    {
    case LayerKind::machine_policy:
        return "machine policy";
    case LayerKind::user:
        return "user";
    case LayerKind::cloud_init:
        return "cloud-init";
    case LayerKind::image:
        return "image";
    }
    return "answers";
}

Layer load_layer(LayerKind kind, std::string origin, std::string_view text)
{
    Layer layer;
    layer.kind = kind;
    layer.origin = std::move(origin);
    try
    {
        layer.document = json::parse(text);
    }
    catch (const json::exception& e)
    {
        throw AnswersError(layer.origin, "", fmt::format("not valid JSON: {}", e.what()));
    }
    if (!layer.document.is_object())
    {
        throw AnswersError(
            layer.origin,
            "/",
            fmt::format("expected an object, found {}", layer.document.type_name()));
    }
    const json& version = layer.document.contains("version") ? layer.document["version"] : json();
    if (!version.is_number_integer() || version.get<std::int64_t>() != kAnswersVersion)
    {
        throw AnswersError(
            layer.origin,
            "/version",
            version.is_null() ? "missing: this program reads \"version\": 1"
                              : "unsupported: this program reads \"version\": 1");
    }
    if (layer.document.contains("locked"))
    {
        const json& locked = layer.document["locked"];
        if (kind != LayerKind::machine_policy)
        {
            throw AnswersError(
                layer.origin,
                "/locked",
                "only machine policy (the registry policy or %ProgramData%\\AzureLinux\\oobe.json) "
                "locks keys");
        }
        if (!locked.is_array()
            || !std::all_of(
                locked.begin(), locked.end(), [](const json& k) { return k.is_string(); }))
        {
            throw AnswersError(layer.origin, "/locked", "expected an array of keys such as /proxy");
        }
        for (const auto& key : locked)
        {
            layer.locked.push_back(normalise_lock(key.get<std::string>()));
        }
        layer.document.erase("locked");
    }
    for (const auto& [key, _] : layer.document.items())
    {
        if (!is_answers_key(key))
        {
            throw AnswersError(
                layer.origin, "/" + key, "unknown key (see oobe/schema/answers.schema.json)");
        }
    }
    return layer;
}

std::string MergedAnswers::origin_of(std::string_view pointer) const
{
    std::string p(pointer);
    while (!p.empty())
    {
        if (const auto it = provenance.find(p); it != provenance.end())
        {
            return layers[it->second].origin;
        }
        p.erase(p.rfind('/'));
    }
    // A whole section (e.g. /user without a name): the highest layer that has it.
    const auto slash = pointer.find('/', 1);
    const std::string section(
        pointer.substr(1, slash == std::string_view::npos ? slash : slash - 1));
    for (const auto& layer : layers)
    {
        if (!section.empty() && layer.document.contains(section))
        {
            return layer.origin;
        }
    }
    return "answers";
}

std::string MergedAnswers::summary() const
{
    std::vector<bool> used(layers.size(), false);
    for (const auto& [_, index] : provenance)
    {
        used[index] = true;
    }
    std::string out;
    for (std::size_t i = 0; i < layers.size(); ++i)
    {
        if (used[i])
        {
            out += (out.empty() ? "" : " + ") + layers[i].origin;
        }
    }
    if (out.empty() && !layers.empty())
    {
        out = layers.front().origin; // a layer with nothing but "version": still the source
    }
    return out;
}

MergedAnswers merge_layers(std::vector<Layer> layers)
{
    MergedAnswers out;
    out.layers = std::move(layers);
    out.document = json::object();
    Merger merger(out);
    for (std::size_t i = 0; i < out.layers.size(); ++i)
    {
        merger.add(i);
    }
    out.document["version"] = kAnswersVersion;
    return out;
}

std::vector<EffectiveValue> effective_values(const MergedAnswers& merged)
{
    std::vector<EffectiveValue> out;
    for (const auto& [pointer, index] : merged.provenance)
    {
        const json& value = merged.document.at(json::json_pointer(pointer));
        out.push_back({.key = pointer, .value = shown_value(pointer, value), .layer = index});
    }
    // Document order: the provenance map sorts "/packages/10" before "/packages/2".
    std::stable_sort(
        out.begin(),
        out.end(),
        [](const EffectiveValue& a, const EffectiveValue& b)
        {
            const auto split = [](const std::string& k)
            {
                const auto slash = k.rfind('/');
                const std::string tail = k.substr(slash + 1);
                const bool numeric =
                    !tail.empty()
                    && std::all_of(
                        tail.begin(), tail.end(), [](char c) { return c >= '0' && c <= '9'; });
                return numeric ? std::pair(k.substr(0, slash), std::stoul(tail))
                               : std::pair(k, 0UL);
            };
            return split(a.key) < split(b.key);
        });
    return out;
}

} // namespace azl::oobe
