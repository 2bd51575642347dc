#pragma once
// Layers of first-run answers: machine policy (the organisation), the user's file, cloud-init
// user-data, the image's file. They merge key by key, the higher layer winning; the lists
// (ca_certificates, repositories, packages, files, run) accumulate; the organisation can lock keys
// so that no lower layer sets them.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// Where a layer comes from, highest first.
enum class LayerKind
{
    machine_policy, // HKLM\SOFTWARE\Policies\AzureLinux\WSL, %ProgramData%\AzureLinux\oobe.json
    user,           // --answers FILE, %USERPROFILE%\.azurelinux\<distro>.json or default.json
    cloud_init,     // %USERPROFILE%\.cloud-init\*.user-data
    image,          // /etc/azurelinux/oobe.json
};

// The layer's name as shown to people: "machine policy", "user", "cloud-init", "image".
std::string_view layer_name(LayerKind kind) noexcept;

// One source of answers.
// NOLINTNEXTLINE(bugprone-exception-escape): json's noexcept move has an assertion tidy follows
struct Layer
{
    LayerKind kind = LayerKind::user;
    std::string origin;               // the file or registry key, as its owner would name it
    nlohmann::json document;          // an answers document: "version": 1 and its sections
    std::vector<std::string> locked;  // JSON pointers no lower layer may set (machine policy only)
    std::vector<std::string> ignored; // what the source held that is not used, one line each
                                      // (cloud-init keys without an equivalent)
};

// Parses one layer's JSON text: an object, "version": 1, known top-level keys; "locked" (a list
// of keys such as "/proxy" or "timezone") only in machine policy. Throws AnswersError naming
// `origin`. Sections are validated after the merge (merged_answers' parse).
Layer load_layer(LayerKind kind, std::string origin, std::string_view text);

// A lower layer's value that an organisation's lock kept out.
struct Refusal
{
    std::string key;    // JSON pointer, e.g. /timezone
    std::string origin; // the layer that set it
    std::string policy; // the machine policy that locks it
};

// The answers of every layer merged, with where each value came from.
// NOLINTNEXTLINE(bugprone-exception-escape): json's noexcept move has an assertion tidy follows
struct MergedAnswers
{
    std::vector<Layer> layers;                     // highest first
    nlohmann::json document;                       // the merged answers document
    std::map<std::string, std::size_t> provenance; // JSON pointer -> index into layers
    std::vector<Refusal> refusals;

    // The origin of the layer that set `pointer` (or its nearest parent); "answers" when none.
    [[nodiscard]] std::string origin_of(std::string_view pointer) const;
    // "a + b": the origins of the layers that contributed, highest first; empty when none did.
    [[nodiscard]] std::string summary() const;
};

// Merges `layers` (highest first): key by key inside user, proxy and bridge; the lists accumulate
// (higher layers' entries first; a CA certificate or repository of the same name, or the same
// package, only once); a key locked by a higher machine policy layer is refused in every lower one.
MergedAnswers merge_layers(std::vector<Layer> layers);

// One effective value, for --dry-run: secrets (passwords, hashes, run commands, credentials in
// proxy URLs, PEM text) replaced by "(set)".
struct EffectiveValue
{
    std::string key;      // JSON pointer
    nlohmann::json value; // shown value
    std::size_t layer;    // index into MergedAnswers::layers
};

// Every leaf value of the merged document (list entries one by one), in document order.
std::vector<EffectiveValue> effective_values(const MergedAnswers& merged);

} // namespace azl::oobe
