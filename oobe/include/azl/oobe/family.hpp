#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// The fields of /etc/os-release first-run setup uses.
struct OsRelease
{
    std::string id;
    std::string id_like; // space-separated
    std::string name;
    std::string version_id;
    std::string version_codename; // VERSION_CODENAME, e.g. bookworm; empty on Azure Linux
    std::string pretty_name;

    // Parses os-release(5) text: KEY=value lines, values optionally quoted.
    static OsRelease parse(std::string_view text);
    // Reads /etc/os-release (or `path`); throws UserError when it cannot be read.
    static OsRelease load(const std::filesystem::path& path = "/etc/os-release");

    // "Azure Linux 3.0" style name for people: PRETTY_NAME, else NAME VERSION_ID, else ID.
    [[nodiscard]] std::string display_name() const;
};

// Distribution families whose tools and paths differ.
enum class Family
{
    rpm,    // Azure Linux, Fedora, RHEL-like: tdnf, shadow-utils, wheel, /etc/pki/ca-trust
    debian, // Debian, Ubuntu: apt-get, sudo group, /usr/local/share/ca-certificates
};

// Everything first-run setup needs to know about a family, in one table (see family.cpp).
struct FamilyFacts
{
    Family family;
    std::string_view name;                   // "rpm" / "debian"
    std::string_view admin_group;            // group whose members may sudo
    std::string_view ca_anchor_dir;          // where extra trust anchors go
    std::string_view ca_anchor_suffix;       // file name suffix the trust tool picks up
    std::vector<std::string_view> ca_update; // trust store rebuild command
    std::string_view host_anchors; // the host's certificates: our folder (Debian) or bundle (rpm)
    std::string_view ca_bundle;    // the bundle the trust tool extracts, which TLS clients read
    std::vector<std::string_view> package_install; // non-interactive install, packages appended
    std::vector<std::string_view> package_refresh; // metadata refresh before installing
    std::vector<std::string_view> package_upgrade; // non-interactive upgrade of everything
    std::vector<std::string_view> package_query; // exits 0 when the package (appended) is installed
    std::string_view package_proxy_file;         // package manager config that carries the proxy
    std::string_view repo_dir;                   // where repository definitions go
    std::string_view locale_file;                // LANG= for the system
    bool writes_etc_timezone;                    // /etc/timezone besides /etc/localtime
};

// The facts of `family`.
const FamilyFacts& facts_for(Family family);

// The family of the distribution described by os-release (ID, then each ID_LIKE word); throws
// UserError for a distribution first-run setup does not know.
Family detect_family(const OsRelease& os);

} // namespace azl::oobe
