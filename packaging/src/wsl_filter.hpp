#pragma once
// The WSL policy applied to a tree on its way into a .wsl (private to azl::packaging): strips the
// xattrs WSL 1 cannot store, masks or reports systemd units that break under WSL, adds the default
// /etc/wsl.conf when the image has none, and checks the guest programs it names are there and run
// on the image's architecture.

#include <azl/rootfs/build.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace azl::packaging::detail
{

// Units that misbehave under WSL (azl/common/wsl_facts.hpp) and should not be enabled in an image.
std::span<const std::string_view> wsl_hostile_units();

// The architecture of a program (an ELF executable) from its first bytes, as
// rootfs::elf_arch_name names it; nullopt when they are not a program's.
std::optional<std::string> program_arch(std::string_view head);

// A path the finished tree must have (symlinks followed, ending at a non-directory), and the
// error when it does not.
struct RequiredFile
{
    std::string path; // normalized
    std::string message;
    std::string hint;
};

// What the filter does.
struct WslFilterOptions
{
    bool strip_xattrs = true; // security.selinux / security.ima / security.evm
    bool mask_units = false;  // else: report enabled hostile units as warnings
    bool add_wsl_conf = true; // when the tree has no /etc/wsl.conf
    std::vector<RequiredFile> required;
    std::optional<std::string> arch; // the guest programs' architecture, when they are added
    std::int64_t mtime = 0;          // of the entries the filter adds
    std::vector<std::pair<std::string, std::string>> symlinks; // normalized path -> target, added
                                                               // at the end unless the path exists
    std::vector<std::pair<std::string, std::string>> files; // normalized path -> text (0644), added
                                                            // at the end unless the path exists
};

// What the filter saw and did.
struct WslFilterReport
{
    std::uint64_t stripped_xattrs = 0; // attribute values removed
    std::vector<std::string> masked;   // unit names masked by this build
    std::vector<std::string> enabled;  // hostile units left enabled (warn mode)
    bool wsl_conf_added = false;
    std::vector<std::string> files_added;  // of WslFilterOptions::files, normalized
    bool systemd = false;                  // the added wsl.conf boots systemd
    std::optional<std::string> image_arch; // of /bin/sh
};

class WslFilter final : public rootfs::TreeFilter
{
public:
    explicit WslFilter(WslFilterOptions options);

    void add(const rootfs::Entry& entry, rootfs::ContentReader* content, rootfs::EntrySink& next)
        override;
    void finish(rootfs::EntrySink& next) override;

    // Valid after finish().
    [[nodiscard]] const WslFilterReport& report() const noexcept
    {
        return m_report;
    }

private:
    void observe(const rootfs::Entry& e);
    // The normalized path `path` leads to through the symlinks seen, or nullopt (missing, loop).
    [[nodiscard]] std::optional<std::string> resolve(const std::string& path) const;
    void ensure_directory(const std::string& path, rootfs::EntrySink& next);
    void add_masks(rootfs::EntrySink& next);
    void add_wsl_conf(rootfs::EntrySink& next);
    void add_symlinks(rootfs::EntrySink& next);
    void add_files(rootfs::EntrySink& next);
    void check_required() const;

    WslFilterOptions m_options;
    WslFilterReport m_report;
    std::unordered_set<std::string> m_dirs;
    std::unordered_set<std::string> m_others;                 // every non-directory path
    std::unordered_map<std::string, std::string> m_symlinks;  // path -> target as stored
    std::unordered_map<std::string, std::string> m_hardlinks; // path -> normalized target
    std::unordered_map<std::string, std::string> m_elf;       // programs -> architecture
    std::set<std::string> m_units_present;                    // hostile units with a unit file
    std::set<std::string> m_units_enabled;                    // hostile units wanted somewhere
    std::set<std::string> m_units_masked;                     // already linked to /dev/null
};

} // namespace azl::packaging::detail
