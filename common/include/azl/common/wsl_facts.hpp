#pragma once
// Facts about WSL that both the image checks (rootfs) and the image builder (packaging) apply, kept
// in one place so a check and the fix it suggests can never disagree (see WSL-FACTS.md).

#include <array>
#include <string_view>

namespace azl::rootfs
{

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

} // namespace azl::rootfs
