#pragma once

#include <azl/oobe/layers.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// The answers document chosen and where it came from.
struct AnswersSource
{
    std::filesystem::path path;
    std::string text;
};

// Runs `cmd.exe /c echo %NAME%` through WSL interop; nullopt when interop is unavailable or the
// variable is not set on the Windows side.
std::optional<std::string> windows_environment(std::string_view name);

// Translates a Windows path into the guest's (wslpath -u); nullopt when it cannot.
std::optional<std::filesystem::path> guest_path_of(std::string_view windows_path);

// Finds the layers of answers, highest first: the registry policy (reg.exe through interop) and
// %ProgramData%\AzureLinux\oobe.json (machine policy); `explicit_file`, else the host's
// %USERPROFILE%\.azurelinux\<WSL_DISTRO_NAME>.json, else ...\default.json (user); cloud-init
// user-data in %USERPROFILE%\.cloud-init\, translated (cloud_init.hpp); `image_file`
// (/etc/azurelinux/oobe.json). Warns about a file readable by others. Throws AnswersError for a
// layer that is not an answers document.
// With `host_layers` (the launcher's --host-layers document) the Windows side's layers come from it
// instead of through interop: the policy key as the launcher read it (through reg.exe only when it
// could not), %ProgramData%'s file, the user's file (`explicit_file` still wins) and the
// cloud-init file chosen from its copies in the same order.
std::vector<Layer> find_layers(
    const std::optional<std::filesystem::path>& explicit_file,
    const std::filesystem::path& image_file,
    const std::optional<std::filesystem::path>& host_layers = std::nullopt);

} // namespace azl::oobe
