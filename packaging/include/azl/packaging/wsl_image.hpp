#pragma once
// `azurelinux image build` with WSL packaging: the image engine's build plus the files WSL's modern
// format expects (/etc/wsl-distribution.conf, the OOBE and bridge programs, icon, Terminal profile
// template, default /etc/wsl.conf) and its rules (no security.selinux/ima/evm xattrs, no systemd
// units that break under WSL).

#include <azl/packaging/wsl_config.hpp>
#include <azl/rootfs/build.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace azl::packaging
{

// Whether the WSL files and rules apply.
enum class WslFiles
{
    auto_detect, // when the output's name ends in .wsl
    on,
    off, // the tree is written as flattened
};

// Where the guest programs come from.
enum class GuestTools
{
    add,        // put azurelinux-oobe (and azurelinux-bridge) from the host into the image
    from_image, // the image's own packages provide them; the build checks they are there
};

// Whether the Azure bridge goes in.
enum class BridgeFiles
{
    include,
    leave_out,
};

// What happens to the xattrs WSL 1 cannot store (security.selinux, security.ima, security.evm).
enum class Wsl1Xattrs
{
    strip,
    keep,
};

// What happens to enabled systemd units that break under WSL.
enum class HostileUnits
{
    warn,
    mask, // symlinked to /dev/null in /etc/systemd/system
};

// Everything a WSL image build needs.
struct WslImageOptions
{
    rootfs::BuildOptions build; // sources, removals, --add/--add-dir, output, compression
    WslFiles wsl_files = WslFiles::auto_detect;
    std::string default_name = std::string(kDefaultName);
    std::filesystem::path program_dir;           // where the default guest programs are looked up
    std::optional<std::filesystem::path> oobe;   // default: program_dir/azurelinux-oobe
    std::optional<std::filesystem::path> bridge; // default: program_dir/azurelinux-bridge
    GuestTools guest_tools = GuestTools::add;
    BridgeFiles bridge_files = BridgeFiles::include;
    std::optional<std::filesystem::path> answers; // baked in as /etc/azurelinux/oobe.json (0600)
    Wsl1Xattrs xattrs = Wsl1Xattrs::strip;
    HostileUnits units = HostileUnits::warn;
};

// What a WSL image build did.
struct WslImageResult
{
    rootfs::BuildResult build;      // warnings include the WSL ones
    bool wsl_files = false;         // whether the WSL files and rules were applied
    std::vector<std::string> added; // guest paths of the files put in, sorted
    std::vector<std::string> masked_units;
    bool systemd = false;        // the generated /etc/wsl.conf boots systemd
    bool wsl_conf_added = false; // false: the image had its own /etc/wsl.conf
    std::uint64_t stripped_xattrs = 0;
    std::optional<std::string> arch; // of the image's /bin/sh
};

// Builds the image. Throws UserError naming the problem (a missing guest program names it and the
// option to give it) before anything is written; nothing is left at the output on failure.
WslImageResult build_wsl_image(const WslImageOptions& options);

} // namespace azl::packaging
