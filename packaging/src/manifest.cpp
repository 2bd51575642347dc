#include <azl/common/error.hpp>
#include <azl/common/text.hpp>
#include <azl/packaging/manifest.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <utility>

namespace azl::packaging
{

namespace
{

using Json = nlohmann::ordered_json;

constexpr std::string_view kModern = "ModernDistributions";
constexpr std::string_view kSchemaHint =
    "each entry has Name, FriendlyName, Default and Amd64Url and/or Arm64Url {Url, Sha256}; "
    "see docs/enterprise.md";

// One line naming the file and the JSON path: "F: ModernDistributions.X[1].Name: problem".
[[noreturn]] void fail(std::string_view origin, std::string_view path, std::string_view problem)
{
    if (path.empty())
    {
        throw UserError(fmt::format("{}: {}", origin, problem), std::string(kSchemaHint));
    }
    throw UserError(fmt::format("{}: {}: {}", origin, path, problem), std::string(kSchemaHint));
}

bool is_sha256(std::string_view text)
{
    if (text.size() == 66 && (text.starts_with("0x") || text.starts_with("0X")))
    {
        text.remove_prefix(2);
    }
    return text.size() == 64
           && std::all_of(
               text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

// Rejects keys outside `allowed`, naming the first unknown one.
void check_keys(
    const Json& object,
    std::initializer_list<std::string_view> allowed,
    std::string_view origin,
    const std::string& path)
{
    for (const auto& item : object.items())
    {
        if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end())
        {
            fail(origin, path, fmt::format("unknown key \"{}\"", item.key()));
        }
    }
}

std::string required_string(
    const Json& object, std::string_view key, std::string_view origin, const std::string& path)
{
    const auto it = object.find(std::string(key));
    if (it == object.end())
    {
        fail(origin, path, fmt::format("missing key \"{}\"", key));
    }
    if (!it->is_string())
    {
        fail(origin, fmt::format("{}.{}", path, key), "must be a string");
    }
    return it->get<std::string>();
}

Download parse_download(const Json& j, std::string_view origin, const std::string& path)
{
    if (!j.is_object())
    {
        fail(origin, path, "must be an object with Url and Sha256");
    }
    check_keys(j, {"Url", "Sha256"}, origin, path);
    Download d;
    d.url = required_string(j, "Url", origin, path);
    d.sha256 = required_string(j, "Sha256", origin, path);
    return d;
}

ManifestEntry parse_entry(const Json& j, std::string_view origin, const std::string& path)
{
    if (!j.is_object())
    {
        fail(origin, path, "must be an object");
    }
    check_keys(j, {"Name", "FriendlyName", "Default", "Amd64Url", "Arm64Url"}, origin, path);
    ManifestEntry e;
    e.name = required_string(j, "Name", origin, path);
    e.friendly_name = required_string(j, "FriendlyName", origin, path);
    if (const auto it = j.find("Default"); it != j.end())
    {
        if (!it->is_boolean())
        {
            fail(origin, path + ".Default", "must be true or false");
        }
        e.is_default = it->get<bool>();
    }
    if (const auto it = j.find("Amd64Url"); it != j.end())
    {
        e.amd64 = parse_download(*it, origin, path + ".Amd64Url");
    }
    if (const auto it = j.find("Arm64Url"); it != j.end())
    {
        e.arm64 = parse_download(*it, origin, path + ".Arm64Url");
    }
    return e;
}

std::map<std::string, std::vector<ManifestEntry>>
parse_flavors(const Json& j, std::string_view origin)
{
    const std::string path(kModern);
    if (!j.is_object())
    {
        fail(origin, path, "must be an object mapping each flavor to its list of entries");
    }
    std::map<std::string, std::vector<ManifestEntry>> flavors;
    for (const auto& item : j.items())
    {
        const std::string flavor_path = fmt::format("{}.{}", path, item.key());
        if (!item.value().is_array())
        {
            fail(origin, flavor_path, "must be a list of entries");
        }
        auto& entries = flavors[item.key()];
        for (std::size_t i = 0; i < item.value().size(); ++i)
        {
            entries.push_back(
                parse_entry(item.value()[i], origin, fmt::format("{}[{}]", flavor_path, i)));
        }
    }
    return flavors;
}

void validate_download(const Download& d, std::string_view origin, const std::string& path)
{
    if (!ascii_lower(d.url).ends_with(".wsl"))
    {
        fail(origin, path + ".Url", fmt::format(R"("{}" does not end in ".wsl")", d.url));
    }
    if (!is_sha256(d.sha256))
    {
        fail(
            origin,
            path + ".Sha256",
            fmt::format("\"{}\" is not 64 hex digits (optionally prefixed 0x)", d.sha256));
    }
}

void validate_entry(
    const ManifestEntry& e,
    const std::string& flavor,
    std::string_view origin,
    const std::string& path)
{
    if (e.name.empty())
    {
        fail(origin, path + ".Name", "is empty");
    }
    if (!e.name.starts_with(flavor))
    {
        fail(
            origin,
            path + ".Name",
            fmt::format(R"("{}" does not start with its flavor "{}")", e.name, flavor));
    }
    if (e.friendly_name.empty())
    {
        fail(origin, path + ".FriendlyName", "is empty");
    }
    if (!e.amd64 && !e.arm64)
    {
        fail(origin, path, "has neither Amd64Url nor Arm64Url");
    }
    if (e.amd64)
    {
        validate_download(*e.amd64, origin, path + ".Amd64Url");
    }
    if (e.arm64)
    {
        validate_download(*e.arm64, origin, path + ".Arm64Url");
    }
}

Json download_json(const Download& d)
{
    Json j = Json::object();
    j["Url"] = d.url;
    j["Sha256"] = d.sha256;
    return j;
}

Json entry_json(const ManifestEntry& e)
{
    Json j = Json::object();
    j["Name"] = e.name;
    j["FriendlyName"] = e.friendly_name;
    j["Default"] = e.is_default;
    if (e.amd64)
    {
        j["Amd64Url"] = download_json(*e.amd64);
    }
    if (e.arm64)
    {
        j["Arm64Url"] = download_json(*e.arm64);
    }
    return j;
}

} // namespace

Manifest parse_manifest(std::string_view text, std::string_view origin)
{
    Json root;
    try
    {
        root = Json::parse(text);
    }
    catch (const Json::exception& e)
    {
        // parse_error for syntax, out_of_range for numbers too large to hold (found by fuzzing).
        // Drop nlohmann's "[json.exception.parse_error.101] " tag: users need the position only.
        std::string_view why = e.what();
        if (const auto pos = why.find("] ");
            why.starts_with("[json.") && pos != std::string_view::npos)
        {
            why.remove_prefix(pos + 2);
        }
        throw UserError(
            fmt::format("{}: not valid JSON: {}", origin, why),
            "check the file is a DistributionInfo.json manifest");
    }
    if (!root.is_object())
    {
        fail(origin, "", "the top level is not a JSON object");
    }
    Manifest manifest;
    for (const auto& item : root.items())
    {
        if (item.key() == kModern)
        {
            manifest.flavors = parse_flavors(item.value(), origin);
        }
        else
        {
            manifest.other[item.key()] = item.value();
        }
    }
    validate_manifest(manifest, origin);
    return manifest;
}

void validate_manifest(const Manifest& manifest, std::string_view origin)
{
    // WSL registers distribution names case-insensitively, so "azurelinux-4.0" clashes too.
    std::map<std::string, std::string> name_paths;
    for (const auto& [flavor, entries] : manifest.flavors)
    {
        const std::string flavor_path = fmt::format("{}.{}", kModern, flavor);
        if (flavor.empty())
        {
            fail(origin, flavor_path, "the flavor key is empty");
        }
        std::vector<std::string> defaults;
        for (std::size_t i = 0; i < entries.size(); ++i)
        {
            const std::string path = fmt::format("{}[{}]", flavor_path, i);
            validate_entry(entries[i], flavor, origin, path);
            const auto [it, fresh] = name_paths.emplace(ascii_lower(entries[i].name), path);
            if (!fresh)
            {
                fail(
                    origin,
                    path + ".Name",
                    fmt::format("\"{}\" is also the Name of {}", entries[i].name, it->second));
            }
            if (entries[i].is_default)
            {
                defaults.push_back(entries[i].name);
            }
        }
        if (defaults.empty())
        {
            fail(origin, flavor_path, "no entry has \"Default\": true; exactly one must");
        }
        if (defaults.size() > 1)
        {
            fail(
                origin,
                flavor_path,
                fmt::format(
                    "{} entries have \"Default\": true ({}); exactly one must",
                    defaults.size(),
                    fmt::join(defaults, ", ")));
        }
    }
}

std::string serialize_manifest(const Manifest& manifest)
{
    Json root = Json::object();
    Json& modern = root[std::string(kModern)];
    modern = Json::object();
    for (const auto& [flavor, entries] : manifest.flavors)
    {
        Json list = Json::array();
        for (const auto& e : entries)
        {
            list.push_back(entry_json(e));
        }
        modern[flavor] = std::move(list);
    }
    for (const auto& item : manifest.other.items())
    {
        root[item.key()] = item.value();
    }
    try
    {
        return root.dump(2) + "\n";
    }
    catch (const Json::type_error&)
    {
        throw UserError(
            "the manifest contains text that is not valid UTF-8",
            "give names, friendly names and URLs as UTF-8");
    }
}

MergeAction merge_entry(
    Manifest& manifest, const std::string& flavor, ManifestEntry entry, std::string_view origin)
{
    // Work on a copy so a refused merge leaves the caller's manifest as it was.
    Manifest merged = manifest;
    auto& entries = merged.flavors[flavor];
    if (entry.is_default)
    {
        // Exactly one default per flavor: a second one is refused rather than moved silently, so
        // a merge cannot change what `wsl --install FLAVOR` installs by accident.
        const auto current = std::find_if(
            entries.begin(),
            entries.end(),
            [&](const ManifestEntry& e) { return e.is_default && e.name != entry.name; });
        if (current != entries.end())
        {
            throw UserError(
                fmt::format(
                    "{}: flavor {} already has a default entry, {}; a flavor has exactly one",
                    origin,
                    flavor,
                    current->name),
                fmt::format(
                    "add {} without --default, or set \"Default\": false on {} in the manifest "
                    "first",
                    entry.name,
                    current->name));
        }
    }
    const auto same = std::find_if(
        entries.begin(),
        entries.end(),
        [&](const ManifestEntry& e) { return e.name == entry.name; });
    const MergeAction action = same == entries.end() ? MergeAction::added : MergeAction::replaced;
    ManifestEntry& slot = action == MergeAction::added ? entries.emplace_back() : *same;
    slot = std::move(entry);
    const bool has_default = std::any_of(
        entries.begin(), entries.end(), [](const ManifestEntry& e) { return e.is_default; });
    if (!has_default)
    {
        slot.is_default = true;
    }
    validate_manifest(merged, origin);
    manifest = std::move(merged);
    return action;
}

UrlAndFile parse_url_and_file(std::string_view spec, std::string_view option)
{
    const auto eq = spec.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == spec.size())
    {
        throw UserError(
            fmt::format("{} {}: expected URL=FILE", option, spec),
            fmt::format(
                "e.g. {} https://example.com/AzureLinux-4.0-amd64.wsl=out/AzureLinux.wsl", option));
    }
    // From UTF-8 on every platform (a path made from a narrow string is in the ANSI code page on
    // Windows).
    const std::string_view file = spec.substr(eq + 1);
    return {
        std::string(spec.substr(0, eq)),
        std::filesystem::path(std::u8string(file.begin(), file.end()))};
}

} // namespace azl::packaging
