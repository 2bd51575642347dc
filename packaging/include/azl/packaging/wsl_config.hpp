#pragma once
// The WSL configuration files of an image: /etc/wsl-distribution.conf (what WSL's modern
// installer reads), the default /etc/wsl.conf and the Windows Terminal profile template; and the
// guest paths the project's programs and files live at (the cross-team contract).

#include <cstdint>
#include <string>
#include <string_view>

namespace azl::packaging
{

// Guest paths, as /etc/wsl-distribution.conf and the other programs name them.
inline constexpr std::string_view kOobeGuestPath = "/usr/lib/wsl/azurelinux-oobe";
inline constexpr std::string_view kBridgeGuestPath = "/usr/bin/azurelinux-bridge";
inline constexpr std::string_view kBridgeHookGuestPath = "/etc/profile.d/azurelinux-bridge.sh";
inline constexpr std::string_view kBridgeConfGuestPath = "/etc/azurelinux/bridge.conf";
inline constexpr std::string_view kGitConfigGuestPath = "/etc/gitconfig";
inline constexpr std::string_view kBridgeUnitGuestPath =
    "/usr/lib/systemd/user/azurelinux-bridge.service";
inline constexpr std::string_view kBridgeUnitEnableGuestPath =
    "/etc/systemd/user/default.target.wants/azurelinux-bridge.service";
inline constexpr std::string_view kIconGuestPath = "/usr/share/wsl/azurelinux.ico";
inline constexpr std::string_view kTerminalProfileGuestPath = "/usr/lib/wsl/terminal-profile.json";
inline constexpr std::string_view kAnswersGuestPath = "/etc/azurelinux/oobe.json";
inline constexpr std::string_view kDistributionConfGuestPath = "/etc/wsl-distribution.conf";
inline constexpr std::string_view kWslConfGuestPath = "/etc/wsl.conf";

// The default registered name and first user's uid.
inline constexpr std::string_view kDefaultName = "AzureLinux";
inline constexpr std::uint32_t kDefaultUid = 1000;

// What /etc/wsl-distribution.conf says.
struct DistributionConf
{
    std::string oobe_command = std::string(kOobeGuestPath);
    std::uint32_t default_uid = kDefaultUid;
    std::string default_name = std::string(kDefaultName);
    std::string icon = std::string(kIconGuestPath);
    std::string profile_template = std::string(kTerminalProfileGuestPath);
};

// Throws UserError (naming `option`) unless `name` matches WSL's ^[a-zA-Z0-9._-]{1,256}$.
void validate_default_name(std::string_view name, std::string_view option);

// The file's text: [oobe] command, defaultUid, defaultName; [shortcut] enabled, icon;
// [windowsterminal] enabled, profileTemplate — the only keys WSL reads. Validates the name.
std::string render_distribution_conf(const DistributionConf& conf);

// Whether WSL should boot the image with systemd.
enum class SystemdBoot
{
    on,  // /sbin/init resolves to an ELF executable
    off, // anything else: WSL would fail to start it
};

// The default /etc/wsl.conf (packaging/assets/wsl.conf), with [boot] systemd = true when `boot`
// is on. Never sets [user] default.
std::string render_wsl_conf(SystemdBoot boot);

// The Terminal profile template after checking it is what WSL accepts: a JSON object (no
// comments) with a non-empty "profiles" array of objects, at most 1 MiB.
std::string render_terminal_profile();

} // namespace azl::packaging
