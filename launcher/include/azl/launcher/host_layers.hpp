#pragma once
// The Windows side's layers of first-run answers, read by the launcher and handed to the guest's
// first-run setup (`azurelinux-oobe --host-layers FILE`), so that the organisation's policy and
// the user's files apply even where the guest cannot reach them itself: interop off (no reg.exe,
// no %USERPROFILE%), or non-ASCII policy text (reg.exe prints in the console's code page).
//   machine policy   HKLM\SOFTWARE\Policies\AzureLinux\WSL (every value, as reg.exe shows it) and
//                    %ProgramData%\AzureLinux\oobe.json
//   user             `install --answers FILE`, else %USERPROFILE%\.azurelinux\<distro>.json, else
//                    ...\default.json
//   cloud-init       every %USERPROFILE%\.cloud-init\*.user-data (the guest picks by its
//   os-release)
// In the Linux sandbox the Windows side is $AZL_SANDBOX_DRIVE_C: its ProgramData and Users/<login>
// and, for the registry, the file .registry/HKLM/SOFTWARE/Policies/AzureLinux/WSL holding one
// "NAME<TAB>TYPE<TAB>DATA" line per value (REG_MULTI_SZ items separated by "\0", as reg.exe
// prints).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace azl::launcher
{

// One file of the Windows side: where it is (a Windows path, for messages) and its text.
struct HostLayerFile
{
    std::string origin;
    std::string text;
};

// One registry value as reg.exe shows it.
struct HostRegistryValue
{
    std::string type;
    std::vector<std::string> items;
};

struct HostLayers
{
    bool registry_read = false; // false: the key could not be read (the guest then tries itself)
    std::map<std::string, HostRegistryValue> registry; // empty: no policy key
    std::optional<HostLayerFile> program_data;
    std::optional<HostLayerFile> user;
    std::map<std::string, HostLayerFile> cloud_init; // file name -> file
    std::vector<std::string> notes;                  // what could not be read
};

// Reads them (platform code) for distribution `distro`. `user_answers`: the file the user gave,
// which replaces the profile's. Never throws for what is missing; an unreadable file or key is a
// note.
HostLayers read_host_layers(
    const std::string& distro, const std::optional<std::filesystem::path>& user_answers);

// The document the guest reads: {"version": 1, "registry": {"read", "values"}, "program_data",
// "user", "cloud_init": {name: {origin, text}}}.
std::string host_layers_json(const HostLayers& layers);

// Files larger than this are not handed over (a note says so).
inline constexpr std::uintmax_t kMaxHostLayerFile = 1U << 20U;

} // namespace azl::launcher
