#pragma once
// `azurelinux dsc`: the launcher as a PowerShell DSC v3 command resource, type
// AzureLinux.WSL/Distribution. DSC (and WinGet Configuration, Dev Box customizations, Intune
// scripts built on them) sends one instance as compact JSON on stdin and reads JSON Lines on
// stdout: get prints the actual state; test prints the actual state with `_inDesiredState` and
// then the array of properties out of the desired state; set prints the state afterwards and the
// array of properties it changed; export prints one line per distribution. The manifest and the
// properties' schema are packaging/dsc/azurelinux.dsc.resource.json; docs/enterprise.md shows it
// used.
//
// Properties: `name` (required), `_exist` (default true), `image` (path or http(s) URL; a URL needs
// `sha256`), `sha256`, `location`, `answers` (inline object) or `answersFile`, `defaultUser`; read
// only: `setupState`, `wslVersion`. `image`, `sha256` and `location` only matter when the
// distribution is installed: a different image is not drift (set never reinstalls), and a
// different location is drift that set refuses to fix (moving would be `wsl --manage --move`).

#include <azl/launcher/backend.hpp>
#include <azl/launcher/commands.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::launcher
{

// The resource type name DSC knows us by.
inline constexpr std::string_view kDscResourceType = "AzureLinux.WSL/Distribution";

// One desired instance, as parsed from DSC's input.
struct DscDesired
{
    std::string name;
    bool exist = true;
    std::optional<std::string> image; // a file path or an http(s) URL
    std::optional<std::string> sha256;
    std::optional<std::filesystem::path> location;
    std::optional<nlohmann::json> answers; // inline answers document
    std::optional<std::filesystem::path> answers_file;
    std::optional<std::string> default_user;
};

// Parses one instance. Throws UserError (exit code usage) naming the property when a property is
// unknown, of the wrong type, or invalid (a bad name or digest, a URL without `sha256`, both
// `answers` and `answersFile`). `for_get`: only `name` matters; the rest is accepted and ignored,
// as DSC sends the whole desired state to get.
DscDesired parse_dsc_input(std::string_view text, bool for_get = false);

// The result of test and set: the actual state, and the properties out of the desired state (test)
// or changed (set).
// NOLINTNEXTLINE(bugprone-exception-escape): json's noexcept move has an assertion tidy follows
struct DscResult
{
    nlohmann::json state;
    std::vector<std::string> properties;
};

// Downloads `url` to `destination` (created, never overwritten); throws UserError naming the URL
// when the server cannot be reached or answers with an error status. Platform code: curl
// on Linux, WinHTTP on Windows.
using DscDownloader = void (*)(const std::string& url, const std::filesystem::path& destination);

// The actual state of desired.name: {"name", "_exist"} and, when it exists, "location",
// "defaultUser", "setupState" ("done", "pending", "running", "failed"), "wslVersion".
nlohmann::json dsc_get(Backend& backend, const DscDesired& desired);

// Compares the actual state with `desired`. Answers are compared by asking the guest's first-run
// setup for its plan with them (`azurelinux-oobe --dry-run --json`): drift when a step is not done.
DscResult dsc_test(Backend& backend, const DscDesired& desired, const CommandEnv& env);

// Makes the actual state the desired one, idempotently: installs (downloading a URL image, checked
// against `sha256`) and runs first-run setup with the answers; finishes a pending setup; applies
// changed answers again; sets the default user; removes the distribution when `_exist` is false.
// Throws UserError when an installed distribution is in another location, or a missing one has
// no `image`; nothing is changed then.
DscResult
dsc_set(Backend& backend, const DscDesired& desired, const CommandEnv& env, DscDownloader download);

// One state per registered distribution, sorted by name.
std::vector<nlohmann::json> dsc_export(Backend& backend);

// `url` for messages and logs: without its query (a SAS token there is a secret).
std::string url_for_display(std::string_view url);

// The platform's downloader.
void download_file(const std::string& url, const std::filesystem::path& destination);

} // namespace azl::launcher
