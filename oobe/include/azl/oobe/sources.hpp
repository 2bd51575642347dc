#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

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

// Finds the answers, first found wins: `explicit_file`; the host's
// %USERPROFILE%\.azurelinux\<WSL_DISTRO_NAME>.json, then ...\default.json; `image_file`
// (/etc/azurelinux/oobe.json). Warns when the chosen file is readable by others. nullopt: none.
std::optional<AnswersSource> find_answers(
    const std::optional<std::filesystem::path>& explicit_file,
    const std::filesystem::path& image_file);

} // namespace azl::oobe
