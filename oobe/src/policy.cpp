#include <azl/common/text.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/policy.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace azl::oobe
{

using nlohmann::json;

namespace
{

constexpr std::string_view kSeparator = "    ";

std::vector<std::string> split_multi(std::string_view data)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= data.size())
    {
        auto end = data.find("\\0", start);
        if (end == std::string_view::npos)
        {
            end = data.size();
        }
        if (end > start)
        {
            out.emplace_back(data.substr(start, end - start));
        }
        start = end + 2;
    }
    return out;
}

class PolicyReader
{
public:
    PolicyReader(const std::map<std::string, RegistryValue>& values, std::string_view origin)
        : m_values(values)
        , m_origin(origin)
    {
    }

    [[nodiscard]] const RegistryValue* find(std::string_view name) const
    {
        for (const auto& [key, value] : m_values)
        {
            if (ascii_iequals(key, name)) // registry value names are case-insensitive
            {
                return &value;
            }
        }
        return nullptr;
    }

    [[noreturn]] void fail(std::string_view name, std::string_view problem) const
    {
        throw AnswersError(fmt::format("{}\\{}", m_origin, name), "", problem);
    }

    [[nodiscard]] std::optional<std::string> string(std::string_view name) const
    {
        const auto* v = find(name);
        if (v == nullptr)
        {
            return std::nullopt;
        }
        if (v->type != "REG_SZ" && v->type != "REG_EXPAND_SZ")
        {
            fail(name, fmt::format("is {}, expected REG_SZ", v->type));
        }
        return v->items.empty() ? std::string() : v->items.front();
    }

    // REG_MULTI_SZ items, or a REG_SZ split at ',' and ';'.
    [[nodiscard]] std::optional<std::vector<std::string>> list(std::string_view name) const
    {
        const auto* v = find(name);
        if (v == nullptr)
        {
            return std::nullopt;
        }
        if (v->type == "REG_MULTI_SZ")
        {
            return v->items;
        }
        if (v->type == "REG_SZ" || v->type == "REG_EXPAND_SZ")
        {
            return split_trimmed(v->items.empty() ? "" : v->items.front(), ",;");
        }
        fail(name, fmt::format("is {}, expected REG_MULTI_SZ or REG_SZ", v->type));
    }

    [[nodiscard]] std::optional<bool> flag(std::string_view name) const
    {
        const auto* v = find(name);
        if (v == nullptr)
        {
            return std::nullopt;
        }
        const std::string_view data =
            v->items.empty() ? std::string_view() : std::string_view(v->items.front());
        unsigned long n = 0;
        const bool hex = data.starts_with("0x");
        const auto digits = hex ? data.substr(2) : data;
        const auto [end, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), n, hex ? 16 : 10);
        if (v->type != "REG_DWORD" || ec != std::errc{} || end != digits.data() + digits.size()
            || n > 1)
        {
            fail(name, "expected a REG_DWORD of 0 or 1");
        }
        return n == 1;
    }

private:
    const std::map<std::string, RegistryValue>& m_values;
    std::string_view m_origin;
};

constexpr std::array<std::string_view, 9> kKnownValues = {
    "Answers",
    "LockedKeys",
    "Timezone",
    "Locale",
    "HttpProxy",
    "HttpsProxy",
    "NoProxy",
    "Packages",
    "AzureBridge"};

} // namespace

std::map<std::string, RegistryValue> parse_reg_query(std::string_view output)
{
    std::map<std::string, RegistryValue> values;
    std::size_t start = 0;
    while (start < output.size())
    {
        auto end = output.find('\n', start);
        if (end == std::string_view::npos)
        {
            end = output.size();
        }
        std::string_view line = output.substr(start, end - start);
        start = end + 1;
        if (line.ends_with('\r'))
        {
            line.remove_suffix(1);
        }
        if (!line.starts_with(kSeparator))
        {
            continue; // the key's own line, blank lines, subkeys
        }
        line.remove_prefix(kSeparator.size());
        // NAME    REG_TYPE    DATA; a name may hold spaces, so look for the type's marker.
        const auto type_at = line.find("    REG_");
        if (type_at == std::string_view::npos)
        {
            continue;
        }
        std::string name(line.substr(0, type_at));
        if (name == "(Default)")
        {
            continue;
        }
        std::string_view rest = line.substr(type_at + kSeparator.size());
        const auto data_at = rest.find(kSeparator);
        RegistryValue value;
        value.type = std::string(trim(rest.substr(0, data_at)));
        const std::string_view data =
            data_at == std::string_view::npos ? "" : rest.substr(data_at + kSeparator.size());
        if (value.type == "REG_MULTI_SZ")
        {
            value.items = split_multi(data);
        }
        else
        {
            value.items.emplace_back(data);
        }
        values[std::move(name)] = std::move(value);
    }
    return values;
}

std::optional<Layer> policy_layer(
    const std::map<std::string, RegistryValue>& values,
    std::string_view origin,
    std::vector<std::string>& ignored)
{
    if (values.empty())
    {
        return std::nullopt;
    }
    const PolicyReader r(values, origin);
    for (const auto& entry : values)
    {
        const std::string& name = entry.first;
        if (std::none_of(
                kKnownValues.begin(),
                kKnownValues.end(),
                [&name](std::string_view known) { return ascii_iequals(known, name); }))
        {
            ignored.push_back(name);
        }
    }
    json doc{{"version", kAnswersVersion}};
    std::vector<std::string> locked;
    if (const auto* answers = r.find("Answers"))
    {
        std::string text;
        for (const auto& item : answers->items)
        {
            text += item + "\n";
        }
        Layer inner =
            load_layer(LayerKind::machine_policy, fmt::format("{}\\Answers", origin), text);
        doc = std::move(inner.document);
        locked = std::move(inner.locked);
    }
    if (const auto keys = r.list("LockedKeys"))
    {
        locked.insert(locked.end(), keys->begin(), keys->end());
    }
    if (const auto tz = r.string("Timezone"))
    {
        doc["timezone"] = *tz;
    }
    if (const auto locale = r.string("Locale"))
    {
        doc["locale"] = *locale;
    }
    for (const auto& [name, key] : std::array<std::pair<std::string_view, const char*>, 2>{
             {{"HttpProxy", "http"}, {"HttpsProxy", "https"}}})
    {
        if (const auto url = r.string(name))
        {
            doc["proxy"][key] = *url;
        }
    }
    if (const auto no_proxy = r.list("NoProxy"))
    {
        doc["proxy"]["no_proxy"] = *no_proxy;
    }
    if (const auto packages = r.list("Packages"))
    {
        doc["packages"] = *packages;
    }
    if (const auto bridge = r.flag("AzureBridge"))
    {
        doc["bridge"]["enabled"] = *bridge;
    }
    if (!locked.empty())
    {
        doc["locked"] = locked;
    }
    std::string text;
    try
    {
        text = doc.dump();
    }
    catch (const nlohmann::json::type_error&)
    {
        // A value whose bytes are not UTF-8 (reg.exe's output is read as UTF-8).
        throw AnswersError(origin, "", "a value is not valid UTF-8 text: rewrite it in the policy");
    }
    return load_layer(LayerKind::machine_policy, std::string(origin), text);
}

} // namespace azl::oobe
