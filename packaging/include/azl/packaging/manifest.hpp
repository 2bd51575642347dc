#pragma once
// The manifest `wsl --install` reads (DistributionInfo.json, "ModernDistributions" schema): model,
// validation, stable serialization and merging of one entry into an existing document.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::packaging
{

// Where WSL downloads the image for one architecture and the digest it verifies.
struct Download
{
    std::string url;    // must end in ".wsl" (any case); file:///C:/... works too
    std::string sha256; // 64 hex digits, optionally prefixed "0x"

    friend bool operator==(const Download&, const Download&) = default;
};

// One installable distribution of a flavor.
struct ManifestEntry
{
    std::string name;          // what `wsl --install NAME` takes; starts with the flavor key
    std::string friendly_name; // the human-readable name, e.g. "Azure Linux 4.0"
    bool is_default = false;   // `wsl --install FLAVOR` installs the flavor's default entry
    std::optional<Download> amd64;
    std::optional<Download> arm64;

    friend bool operator==(const ManifestEntry&, const ManifestEntry&) = default;
};

// A whole DistributionInfo.json.
struct Manifest
{
    // "ModernDistributions": flavor key -> its entries, in document order.
    std::map<std::string, std::vector<ManifestEntry>> flavors;
    // Every other top-level key (e.g. the legacy "Distributions"), kept as read, in document order.
    nlohmann::ordered_json other = nlohmann::ordered_json::object();
};

// Parses and validates `text`; throws UserError naming `origin` and the JSON path of the problem.
Manifest parse_manifest(std::string_view text, std::string_view origin);

// Checks every rule WSL applies (docs/wsl-facts.md, the install manifest); throws UserError naming
// `origin` and the path.
void validate_manifest(const Manifest& manifest, std::string_view origin);

// Pretty JSON (2-space indent), flavors sorted, entry keys in schema order, trailing newline;
// the same manifest always gives the same bytes.
std::string serialize_manifest(const Manifest& manifest);

// What merge_entry() did.
enum class MergeAction
{
    added,
    replaced,
};

// Adds `entry` to `flavor` or replaces the entry of the same Name, leaving everything else as is.
// A default entry is refused (UserError) when another entry of its flavor is the default; a
// flavor left without a default gets `entry` as its default. Validates the result; throws
// UserError naming `origin`.
MergeAction merge_entry(
    Manifest& manifest, const std::string& flavor, ManifestEntry entry, std::string_view origin);

// A command-line "URL=FILE" pair, split at the first '='.
struct UrlAndFile
{
    std::string url;
    std::filesystem::path file;
};

// Splits "URL=FILE"; throws UserError naming `option` when either side is missing.
UrlAndFile parse_url_and_file(std::string_view spec, std::string_view option);

} // namespace azl::packaging
