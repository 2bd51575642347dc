#pragma once
// Rules of WSL that more than one side applies — the image builder, `image check` and the launcher
// (on Windows too, so they live in azl::common) — kept in one place so that a check, the fix it
// suggests and what the launcher accepts can never disagree. Each fact, with the WSL source or
// documentation it comes from: docs/wsl-facts.md.

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace azl
{

// The longest distribution name WSL registers (LX_INIT_DISTRO_NAME_MAX).
inline constexpr std::size_t kWslNameMax = 256;

// The name WSL keeps for its pre-store install (LXSS_LEGACY_INSTALL_NAME), refused in any case.
inline constexpr std::string_view kWslReservedName = "Legacy";

// Whether WSL registers a distribution under `name`: 1 to 256 of A-Z a-z 0-9 . _ - and not
// "Legacy" in any case (wslservice's s_ValidateDistroName). Also the rule for [oobe] defaultName.
bool valid_wsl_name(std::string_view name) noexcept;

// Whether `file` names a .wsl image (the extension in any case).
bool has_wsl_extension(const std::filesystem::path& file);

// The hostname WSL gives a distribution for `name` ([network] hostname, else the Windows computer
// name): letters, digits, '-' and at most one '.', none of '-' and '.' first, last or after '-' or
// '.', at most 64 characters, and "localhost" when nothing is left (CleanHostname).
std::string clean_wsl_hostname(std::string_view name);

// The domain in the 127.0.1.1 line of /etc/hosts when Windows has none (LXSS_DOMAIN_NAME_DEFAULT).
inline constexpr std::string_view kWslDefaultDomain = "localdomain";

// The keys WSL reads from /etc/wsl-distribution.conf, lower-cased (section.key).
inline constexpr std::array<std::string_view, 7> kDistributionConfKeys = {
    "oobe.command",
    "oobe.defaultuid",
    "oobe.defaultname",
    "shortcut.enabled",
    "shortcut.icon",
    "windowsterminal.enabled",
    "windowsterminal.profiletemplate",
};

// The keys WSL reads from /etc/wsl.conf, lower-cased (section.key); it ignores any other.
inline constexpr std::array<std::string_view, 25> kWslConfKeys = {
    "automount.enabled",
    "automount.root",
    "automount.options",
    "automount.mountfstab",
    "automount.ldconfig",
    "automount.cgroups",
    "filesystem.umask",
    "interop.enabled",
    "interop.appendwindowspath",
    "network.generatehosts",
    "network.generateresolvconf",
    "network.hostname",
    "time.usewindowstimezone",
    "fileserver.enabled",
    "fileserver.logfile",
    "fileserver.loglevel",
    "fileserver.logtruncate",
    "gpu.enabled",
    "gpu.appendlibpath",
    "user.default",
    "boot.command",
    "boot.systemd",
    "boot.inittimeout",
    "boot.protectbinfmt",
    "general.guiapplications",
};

// Extended attributes WSL 1 cannot store: `image check` warns about them and `image build` removes
// them unless --keep-xattrs (security.capability stays: WSL keeps file capabilities).
inline constexpr std::array<std::string_view, 3> kWsl1UnsupportedXattrs = {
    "security.selinux", "security.ima", "security.evm"};

// systemd units that misbehave under WSL: `image check` warns when one is enabled and
// `image build --mask-units` masks them.
inline constexpr std::array<std::string_view, 16> kWslHostileUnits = {
    "systemd-resolved.service",
    "systemd-networkd.service",
    "systemd-networkd-wait-online.service",
    "systemd-tmpfiles-setup.service",
    "systemd-tmpfiles-setup-dev.service",
    "systemd-tmpfiles-setup-dev-early.service",
    "systemd-tmpfiles-clean.service",
    "systemd-tmpfiles-clean.timer",
    "systemd-vconsole-setup.service",
    "tmp.mount",
    "NetworkManager.service",
    "NetworkManager-wait-online.service",
    "console-getty.service",
    "networking.service",
    "hypervkvpd.service",
    "hv-kvp-daemon.service",
};

// Where systemd looks for unit files and their `.wants` links in an image (relative paths).
inline constexpr std::array<std::string_view, 3> kSystemdUnitDirs = {
    "etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system"};

} // namespace azl
