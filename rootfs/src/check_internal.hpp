#pragma once
// `image check` in two halves: the facts collected in one pass over an image (check_facts.cpp) and
// the rule table that judges them (check_rules.cpp). Private header.
//
// Adding a rule: write `void rule_xxx(RuleContext&)` next to the others (or in a new
// check_rules_<topic>.cpp declaring it here), and add one row to the table in check_rules.cpp.
// Rules read facts only; if a rule needs a file's content, add its path to captured_path().

#include <azl/rootfs/check.hpp>
#include <azl/rootfs/elf.hpp>
#include <azl/rootfs/entry.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace azl::rootfs::check_detail
{

// What reading the beginning of a regular file found.
enum class ElfProbe
{
    not_read, // the pass did not look (directory walks read executables only)
    not_elf,
    elf,
};

// One object of the image as stored, metadata only.
struct Member
{
    std::string raw;  // the name as stored (directories: the path relative to the root)
    std::string path; // normalized (Entry::path form); the raw name when it escapes the root
    EntryType type = EntryType::file;
    std::uint32_t mode = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t size = 0;
    std::string link_target;   // symlink or hard link target, as stored
    std::string hardlink_path; // hard links: the normalized target
    std::vector<std::string> xattr_names;
    ElfProbe elf_probe = ElfProbe::not_read;
    ElfHeader elf;
};

// The content of one small file rules read, up to a cap.
struct CapturedFile
{
    std::string content;
    bool truncated = false; // the file is larger than the cap; `content` is its beginning
};

// Where following symlinks inside the image led.
struct Resolved
{
    const Member* member = nullptr; // the final object (hard links followed); null: missing, loop
    std::string path;               // the normalized path reached
    bool loop = false;              // too many levels of symlinks
};

// Everything one pass over an image learned.
struct ImageFacts
{
    std::filesystem::path input;
    std::string format;                        // "tar" or "directory"
    std::string compression;                   // of an archive file; "none" for directories
    std::vector<Member> members;               // in stream (or walk) order
    std::map<std::string, CapturedFile> files; // captured content by normalized path
    std::vector<std::string> unreadable;       // directory walks: what could not be read, and why
    std::uint64_t content_bytes = 0;           // sum of regular file sizes

    // Builds the lookup indexes; call once after the pass, before any lookup.
    void build_index();

    // The last member stored at a normalized path, or null.
    [[nodiscard]] const Member* find(std::string_view path) const;

    // Whether the path is a member or the parent directory of one (tars may omit directories).
    [[nodiscard]] bool exists(std::string_view path) const;

    // Follows symlinks the way the kernel would inside the image as root: absolute targets start
    // at the image root, ".." stops at the root, at most 40 links; then follows hard links.
    [[nodiscard]] Resolved resolve(std::string_view path) const;

    // The captured content of the file `path` leads to (symlinks followed), or null.
    [[nodiscard]] const CapturedFile* content(std::string_view path) const;

    // The distinct first components of every member path ("." excluded), sorted.
    [[nodiscard]] std::vector<std::string> top_level() const;

private:
    std::unordered_map<std::string, std::size_t> m_index;
    std::unordered_set<std::string> m_parents;
};

// Whether a rule applies to every input or only to something that looks like a root filesystem
// (root-tree rules stay quiet when the tree is missing or wrapped in a folder:
// one finding says so).
enum class Scope
{
    any_input,
    root_tree,
};

// What a rule function sees, and where it reports.
class RuleContext
{
public:
    // `arch` is the expected architecture (from the options or /bin/sh), empty when unknown.
    RuleContext(const ImageFacts& facts, const CheckOptions& options, std::string arch);

    [[nodiscard]] const ImageFacts& facts() const noexcept
    {
        return m_facts;
    }

    [[nodiscard]] const CheckOptions& options() const noexcept
    {
        return m_options;
    }

    [[nodiscard]] const std::string& arch() const noexcept
    {
        return m_arch;
    }

    // The input as the user named it, for commands in hints.
    [[nodiscard]] std::string input_name() const;

    // Records a finding of the running rule.
    void report(std::string path, std::string message, std::string hint);

    // Starts collecting findings for `rule`.
    void start(const RuleInfo& rule);

    // The findings since start(), handed over.
    std::vector<Finding> take();

private:
    const ImageFacts& m_facts;
    const CheckOptions& m_options;
    std::string m_arch;
    const RuleInfo* m_rule = nullptr;
    std::vector<Finding> m_found;
};

// One row of the rule table.
struct Rule
{
    RuleInfo info;
    Scope scope = Scope::any_input;
    void (*run)(RuleContext&) = nullptr;
};

// The rule table, in the order rules run.
std::span<const Rule> rule_table();

// The RuleInfo column of the rule table.
std::span<const RuleInfo> rule_infos();

// Whether the image looks like a root filesystem at its top (root_tree rules run only then).
bool is_root_tree(const ImageFacts& facts);

// The account rules (check_rules_accounts.cpp).
void rule_passwd_present(RuleContext& c);
void rule_passwd_format(RuleContext& c);
void rule_passwd_root(RuleContext& c);
void rule_passwd_default_uid(RuleContext& c);
void rule_group_file(RuleContext& c);
void rule_shadow_mode(RuleContext& c);
void rule_password_hashes(RuleContext& c);

// The rules of WSL's modern format (check_rules_wsl.cpp).
void rule_distribution_conf_file(RuleContext& c);
void rule_distribution_conf_keys(RuleContext& c);
void rule_oobe_command(RuleContext& c);
void rule_oobe_default_uid(RuleContext& c);
void rule_oobe_default_name(RuleContext& c);
void rule_shortcut_icon(RuleContext& c);
void rule_terminal_profile(RuleContext& c);
void rule_wsl_conf_file(RuleContext& c);
void rule_systemd_units(RuleContext& c);

// `azurelinux image build --from INPUT ARGS -o NEW.wsl`, for hints.
std::string rebuild_command(const RuleContext& c, std::string_view args);

// Whether the pass keeps the content of the regular file at this normalized path.
bool captured_path(std::string_view path);

// Reads the image (archive file or directory) into facts. Throws UserError (usage) when the input
// cannot be read as an image at all.
ImageFacts collect_facts(const std::filesystem::path& input);

// "/etc/passwd" from "etc/passwd"; "/" from ".". For messages.
std::string image_path(std::string_view path);

} // namespace azl::rootfs::check_detail
