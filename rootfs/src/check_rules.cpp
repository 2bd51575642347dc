// The rule table of `image check` and the rules about the archive, the tree layout and the
// programs WSL runs. Account rules live in check_rules_accounts.cpp.

#include "check_internal.hpp"
#include "os_release.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/ini.hpp>
#include <azl/common/wsl_facts.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace azl::rootfs::check_detail
{

namespace
{

bool starts_with(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

std::string compression_phrase(std::string_view compression)
{
    return compression == "none" ? std::string("an uncompressed tar")
                                 : fmt::format("a {}-compressed tar", compression);
}

// The single top-level folder a root tree was packed under ("rootfs/etc/…"), if that is the case.
std::optional<std::string> wrapping_folder(const ImageFacts& f)
{
    const std::vector<std::string> tops = f.top_level();
    if (tops.size() != 1 || tops.front() == "etc")
    {
        return std::nullopt;
    }
    const std::string& top = tops.front();
    const Member* m = f.find(top);
    if (m != nullptr && m->type != EntryType::directory)
    {
        return std::nullopt;
    }
    for (const char* inner : {"/etc", "/usr", "/bin"})
    {
        if (f.exists(top + inner))
        {
            return top;
        }
    }
    return std::nullopt;
}

// ---- the archive ----------------------------------------------------------------------------

void rule_wsl_compression(RuleContext& c)
{
    const ImageFacts& f = c.facts();
    if (f.format != "tar" || !has_wsl_extension(f.input) || f.compression == "gzip"
        || f.compression == "xz")
    {
        return;
    }
    c.report(
        "",
        fmt::format(
            "{} is {}; WSL installs only .wsl files compressed with gzip or xz",
            f.input.filename().string(),
            compression_phrase(f.compression)),
        fmt::format("recompress it (gzip is the default): {}", rebuild_command(c, "")));
}

void rule_compression(RuleContext& c)
{
    const ImageFacts& f = c.facts();
    if (f.format != "tar" || has_wsl_extension(f.input) || f.compression == "gzip"
        || f.compression == "xz")
    {
        return;
    }
    c.report(
        "",
        fmt::format(
            "{} is {}; `wsl --install --from-file` accepts only gzip or xz",
            f.input.filename().string(),
            compression_phrase(f.compression)),
        fmt::format("make a .wsl of it: {}", rebuild_command(c, "")));
}

void rule_root_at_top(RuleContext& c)
{
    const auto top = wrapping_folder(c.facts());
    if (!top)
    {
        return;
    }
    const bool dir = c.facts().format == "directory";
    c.report(
        *top,
        fmt::format(
            "the root filesystem sits in the folder {}/ instead of at the top: WSL would install a "
            "tree whose /etc is /{}/etc",
            *top,
            *top),
        dir ? fmt::format(
            "check the folder itself: azurelinux image check {}/{}", c.input_name(), *top)
            : fmt::format(
                "repack it with the folder's content at the top: unpack it, then tar -C {} -czf "
                "NEW.wsl . (or: azurelinux image build --from {} -o NEW.wsl)",
                *top,
                *top));
}

void rule_root_filesystem(RuleContext& c)
{
    const ImageFacts& f = c.facts();
    if (is_root_tree(f) || wrapping_folder(f))
    {
        return;
    }
    std::string hint = "point at a root filesystem: the tree that holds etc/, usr/ and bin/";
    if (f.find("oci-layout") != nullptr && f.find("index.json") != nullptr)
    {
        hint = fmt::format(
            "this is an OCI image layout; make a .wsl of it: azurelinux image build --from {} -o "
            "NEW.wsl",
            c.input_name());
    }
    else if (f.find("manifest.json") != nullptr)
    {
        hint = fmt::format(
            "this looks like `docker save` output; make a .wsl of it: azurelinux image build "
            "--from {} -o NEW.wsl",
            c.input_name());
    }
    c.report(".", "there is neither /etc nor /bin/sh: WSL refuses to import this tree", hint);
}

void rule_absolute_path(RuleContext& c)
{
    for (const Member& m : c.facts().members)
    {
        const bool name = !m.raw.empty() && m.raw.front() == '/';
        const bool link =
            m.type == EntryType::hardlink && !m.link_target.empty() && m.link_target.front() == '/';
        if (name || link)
        {
            c.report(
                m.raw,
                name ? fmt::format("member {} has an absolute name", m.raw)
                     : fmt::format(
                         "hard link {} names its target absolutely ({})", m.raw, m.link_target),
                fmt::format(
                    "azurelinux install refuses it; rebuild with relative names: {}",
                    rebuild_command(c, "")));
        }
    }
}

void rule_dotdot_path(RuleContext& c)
{
    for (const Member& m : c.facts().members)
    {
        const bool name = has_dotdot(m.raw);
        const bool link = m.type == EntryType::hardlink && has_dotdot(m.link_target);
        if (name || link)
        {
            c.report(
                m.raw,
                name ? fmt::format(
                    "member {} has a '..' component and could land outside the "
                    "target directory",
                    m.raw)
                     : fmt::format(
                         "hard link {} has a '..' in its target ({})", m.raw, m.link_target),
                fmt::format("azurelinux install refuses it; rebuild: {}", rebuild_command(c, "")));
        }
    }
}

void rule_duplicate_entry(RuleContext& c)
{
    std::map<std::string, std::size_t> counts;
    for (const Member& m : c.facts().members)
    {
        ++counts[m.path];
    }
    for (const auto& [path, n] : counts)
    {
        if (n > 1)
        {
            c.report(
                path,
                fmt::format(
                    "{} is stored {} times: which copy wins depends on the tool (bsdtar keeps the "
                    "last), and azurelinux install refuses such archives",
                    image_path(path),
                    n),
                fmt::format("rebuild it, which keeps one copy: {}", rebuild_command(c, "")));
        }
    }
}

void rule_hardlink_target(RuleContext& c)
{
    std::map<std::string, EntryType> seen;
    for (const Member& m : c.facts().members)
    {
        if (m.type == EntryType::hardlink)
        {
            const auto it = seen.find(m.hardlink_path);
            if (it == seen.end() || it->second == EntryType::directory)
            {
                c.report(
                    m.path,
                    fmt::format(
                        "hard link {} points to {}, which is not an earlier file of the archive",
                        image_path(m.path),
                        m.link_target),
                    fmt::format("rebuild it: {}", rebuild_command(c, "")));
            }
        }
        seen.emplace(m.path, m.type);
    }
}

void rule_unreadable(RuleContext& c)
{
    for (const std::string& problem : c.facts().unreadable)
    {
        c.report("", problem, "run the check as root to read the whole tree");
    }
}

// ---- programs WSL runs ----------------------------------------------------------------------

enum class Presence
{
    required,
    if_present,
};

// "/bin/sh" or "/bin/sh (-> /usr/bin/dash)".
std::string shown_path(std::string_view path, const Resolved& r)
{
    return r.path == path ? image_path(path)
                          : fmt::format("{} (-> {})", image_path(path), image_path(r.path));
}

// Checks that `path` resolves to an ELF executable of the expected architecture.
void check_elf(
    RuleContext& c,
    std::string_view path,
    Presence presence,
    std::string_view why,
    std::string_view missing_hint)
{
    const ImageFacts& f = c.facts();
    const Resolved r = f.resolve(path);
    const std::string shown = shown_path(path, r);
    if (r.member == nullptr)
    {
        if (presence == Presence::required || f.find(path) != nullptr)
        {
            c.report(
                std::string(path),
                fmt::format(
                    "{} {}; {}",
                    shown,
                    r.loop ? "is a symlink loop"
                           : (f.find(path) != nullptr ? "is a dangling symlink" : "is missing"),
                    why),
                std::string(missing_hint));
        }
        return;
    }
    if (r.member->type != EntryType::file)
    {
        c.report(
            std::string(path),
            fmt::format(
                "{} is a {}, not an ELF executable; {}", shown, type_name(r.member->type), why),
            "make it a symlink to the shell binary or the binary itself");
        return;
    }
    if (r.member->elf_probe == ElfProbe::not_read)
    {
        return; // a directory walk reads executables only: shell-mode reports this one
    }
    const ElfHeader& elf = r.member->elf;
    if (r.member->elf_probe == ElfProbe::not_elf || !elf.is_program())
    {
        c.report(
            std::string(path),
            fmt::format("{} is not an ELF executable (a script or a wrapper?); {}", shown, why),
            "point it at the real binary");
        return;
    }
    const std::string arch = elf_arch_name(elf);
    if (!c.arch().empty() && arch != c.arch())
    {
        c.report(
            std::string(path),
            fmt::format("{} is built for {}, but the image is for {}", shown, arch, c.arch()),
            c.options().arch ? fmt::format(
                "build the image from the {} variant of its source (OCI: "
                "--platform), or check it with --arch {}",
                c.arch(),
                arch)
                             : std::string("build the image from a single architecture's source"));
    }
}

void check_executable_mode(RuleContext& c, std::string_view path)
{
    const Resolved r = c.facts().resolve(path);
    if (r.member == nullptr || r.member->type != EntryType::file)
    {
        return;
    }
    const std::uint32_t mode = r.member->mode;
    if ((mode & 0111U) != 0111U || (mode & 0022U) != 0)
    {
        c.report(
            std::string(path),
            fmt::format(
                "{} has mode {:04o}; WSL needs 0755 (executable by everyone, writable by root "
                "only)",
                shown_path(path, r),
                mode),
            fmt::format("chmod 0755 {} in the source tree and rebuild", image_path(r.path)));
    }
}

bool present(const ImageFacts& f, std::string_view path)
{
    return f.find(path) != nullptr || f.resolve(path).member != nullptr;
}

void rule_shell_elf(RuleContext& c)
{
    constexpr std::string_view kHint =
        "ship a POSIX shell there (Azure Linux: bash, with sh -> bash)";
    check_elf(c, "bin/sh", Presence::required, "WSL runs commands through /bin/sh", kHint);
    if (present(c.facts(), "bin/bash"))
    {
        check_elf(c, "bin/bash", Presence::if_present, "WSL checks /bin/bash like /bin/sh", kHint);
    }
}

void rule_shell_mode(RuleContext& c)
{
    check_executable_mode(c, "bin/sh");
    check_executable_mode(c, "bin/bash");
}

std::optional<IniFile> read_wsl_conf(const ImageFacts& f)
{
    const CapturedFile* file = f.content("etc/wsl.conf");
    if (file == nullptr)
    {
        return std::nullopt;
    }
    try
    {
        return IniFile::parse(file->content, "/etc/wsl.conf");
    }
    catch (const UserError&)
    {
        return std::nullopt; // wsl-conf-syntax reports it
    }
}

void rule_systemd_init(RuleContext& c)
{
    const auto conf = read_wsl_conf(c.facts());
    if (!conf || !conf->get("boot", "systemd"))
    {
        return;
    }
    check_elf(
        c,
        "sbin/init",
        Presence::required,
        "/etc/wsl.conf sets [boot] systemd, and WSL then starts /sbin/init",
        "install systemd (with /sbin/init -> ../lib/systemd/systemd), or remove [boot] systemd "
        "from "
        "/etc/wsl.conf");
    check_executable_mode(c, "sbin/init");
}

// ---- content --------------------------------------------------------------------------------

void rule_os_release(RuleContext& c)
{
    const ImageFacts& f = c.facts();
    std::string_view used = "etc/os-release";
    const CapturedFile* file = f.content(used);
    if (file == nullptr)
    {
        used = "usr/lib/os-release";
        file = f.content(used);
    }
    if (file == nullptr)
    {
        c.report(
            "etc/os-release",
            "there is no /etc/os-release or /usr/lib/os-release: WSL shows the distribution's ID "
            "and VERSION_ID from it",
            "ship os-release (Azure Linux: the azurelinux-release package)");
        return;
    }
    const auto fields = detail::parse_os_release(file->content);
    for (const char* key : {"ID", "VERSION_ID"})
    {
        const auto it = fields.find(key);
        if (it == fields.end() || it->second.empty())
        {
            c.report(
                std::string(used),
                fmt::format(
                    "{} has no {}: WSL shows it as the distribution's {}",
                    image_path(used),
                    key,
                    std::string_view(key) == "ID" ? "flavor" : "version"),
                fmt::format("add a {}= line to {}", key, image_path(used)));
        }
    }
}

void rule_usr_bin_id(RuleContext& c)
{
    const Resolved r = c.facts().resolve("usr/bin/id");
    if (r.member != nullptr && r.member->type == EntryType::file)
    {
        return;
    }
    c.report(
        "usr/bin/id",
        "there is no /usr/bin/id: `wsl --manage NAME --set-default-user USER` runs it to look the "
        "user up",
        "install coreutils in the image");
}

void rule_kernel_payload(RuleContext& c)
{
    std::set<std::string> found;
    for (const Member& m : c.facts().members)
    {
        const std::string& p = m.path;
        if (starts_with(p, "boot/") && p.find('/', 5) == std::string::npos
            && (starts_with(p, "boot/vmlinuz") || starts_with(p, "boot/initr")))
        {
            found.insert(p);
        }
        for (const std::string_view prefix : {"lib/modules/", "usr/lib/modules/"})
        {
            if (starts_with(p, prefix) && p.size() > prefix.size())
            {
                const std::size_t end = p.find('/', prefix.size());
                found.insert(p.substr(0, end));
            }
        }
    }
    for (const std::string& p : found)
    {
        c.report(
            p,
            fmt::format(
                "{} is {}: WSL boots its own kernel, so this only makes the image bigger",
                image_path(p),
                starts_with(p, "boot/") ? "a kernel or initramfs" : "a kernel module tree"),
            fmt::format(
                "rebuild without it: {}",
                rebuild_command(
                    c, starts_with(p, "boot/") ? "--remove /boot" : "--remove /usr/lib/modules")));
    }
}

void rule_resolv_conf(RuleContext& c)
{
    if (c.facts().find("etc/resolv.conf") == nullptr)
    {
        return;
    }
    c.report(
        "etc/resolv.conf",
        "the image ships /etc/resolv.conf: WSL generates it at start ([network] "
        "generateResolvConf), and a shipped one is replaced or, as a link into /run, dangles",
        fmt::format("rebuild without it: {}", rebuild_command(c, "--remove /etc/resolv.conf")));
}

void rule_security_xattrs(RuleContext& c)
{
    std::map<std::string_view, std::pair<std::string, std::size_t>> found; // name -> first, count
    for (const Member& m : c.facts().members)
    {
        for (const std::string& x : m.xattr_names)
        {
            const auto* const it =
                std::find(kWsl1UnsupportedXattrs.begin(), kWsl1UnsupportedXattrs.end(), x);
            if (it != kWsl1UnsupportedXattrs.end())
            {
                auto& [first, count] = found[*it];
                first = count == 0 ? m.path : first;
                ++count;
            }
        }
    }
    for (const auto& [name, where] : found)
    {
        c.report(
            where.first,
            fmt::format(
                "{} entries carry the {} extended attribute (first: {}): WSL 1 cannot store it "
                "(WSL 2 can)",
                where.second,
                name,
                image_path(where.first)),
            "for WSL 1, export the source without it (e.g. tar without --selinux/--xattrs)");
    }
}

void rule_size(RuleContext& c)
{
    const std::uint64_t bytes = c.facts().content_bytes;
    const std::uint64_t limit = c.options().max_uncompressed_bytes;
    if (bytes <= limit)
    {
        return;
    }
    c.report(
        "",
        fmt::format(
            "the image holds {} of file content, more than {}: installs and first starts will be "
            "slow",
            human_bytes(bytes),
            human_bytes(limit)),
        fmt::format(
            "remove what a WSL distribution does not need: {}",
            rebuild_command(c, "--remove PATH")));
}

void rule_wsl_conf_syntax(RuleContext& c)
{
    const CapturedFile* file = c.facts().content("etc/wsl.conf");
    if (file == nullptr)
    {
        return;
    }
    try
    {
        const IniFile ini = IniFile::parse(file->content, "/etc/wsl.conf");
        // WSL reads kWslConfKeys only; anything else is a typo or another tool's.
        for (const auto& item : ini.items())
        {
            const std::string key = item.section + "." + item.key;
            if (std::find(kWslConfKeys.begin(), kWslConfKeys.end(), key) == kWslConfKeys.end())
            {
                c.report(
                    "etc/wsl.conf",
                    fmt::format(
                        "/etc/wsl.conf line {}: WSL does not know [{}] {}",
                        item.line,
                        item.section,
                        item.key),
                    "check the spelling against "
                    "https://learn.microsoft.com/windows/wsl/wsl-config");
            }
        }
    }
    catch (const UserError& e)
    {
        c.report("etc/wsl.conf", e.what(), "fix the line: WSL ignores what it cannot parse");
    }
}

void rule_wsl_conf_default_user(RuleContext& c)
{
    const auto conf = read_wsl_conf(c.facts());
    const auto user = conf ? conf->get("user", "default") : std::nullopt;
    if (!user)
    {
        return;
    }
    c.report(
        "etc/wsl.conf",
        fmt::format(
            "/etc/wsl.conf sets [user] default={}, which overrides the user first-run setup "
            "creates",
            *user),
        "remove it; modern images set [oobe] defaultUid in /etc/wsl-distribution.conf");
}

// One row per rule; kept as a table on purpose.
// clang-format off
constexpr std::array kRules = {
    Rule{{"wsl-compression", Severity::error, "a .wsl file is a gzip or xz compressed tar"}, Scope::any_input, rule_wsl_compression},
    Rule{{"compression", Severity::warning, "an image archive is gzip or xz compressed"}, Scope::any_input, rule_compression},
    Rule{{"root-at-top", Severity::error, "the root filesystem is at the top of the archive, not in a folder"}, Scope::any_input, rule_root_at_top},
    Rule{{"root-filesystem", Severity::error, "the tree has /etc or /bin/sh (WSL refuses it otherwise)"}, Scope::any_input, rule_root_filesystem},
    Rule{{"absolute-path", Severity::error, "no member name (or hard link target) is absolute"}, Scope::any_input, rule_absolute_path},
    Rule{{"dotdot-path", Severity::error, "no member name (or hard link target) has a '..' component"}, Scope::any_input, rule_dotdot_path},
    Rule{{"duplicate-entry", Severity::error, "every path is stored once"}, Scope::any_input, rule_duplicate_entry},
    Rule{{"hardlink-target", Severity::error, "hard links point to an earlier file of the archive"}, Scope::any_input, rule_hardlink_target},
    Rule{{"unreadable", Severity::warning, "the whole directory tree could be read"}, Scope::any_input, rule_unreadable},
    Rule{{"passwd-present", Severity::error, "/etc/passwd exists"}, Scope::root_tree, rule_passwd_present},
    Rule{{"passwd-format", Severity::error, "/etc/passwd lines have 7 fields and unique numeric uids"}, Scope::root_tree, rule_passwd_format},
    Rule{{"passwd-root", Severity::error, "/etc/passwd has root with uid 0"}, Scope::root_tree, rule_passwd_root},
    Rule{{"passwd-default-uid", Severity::error, "no user has the uid first-run setup creates (--default-uid)"}, Scope::root_tree, rule_passwd_default_uid},
    Rule{{"group-file", Severity::error, "/etc/group exists with 4-field lines and numeric gids"}, Scope::root_tree, rule_group_file},
    Rule{{"shadow-mode", Severity::error, "/etc/shadow is owned by root with mode 0640, 0600 or 0000"}, Scope::root_tree, rule_shadow_mode},
    Rule{{"password-hashes", Severity::warning, "accounts ship locked: no password hashes, no empty passwords"}, Scope::root_tree, rule_password_hashes},
    Rule{{"shell-elf", Severity::error, "/bin/sh (and /bin/bash) is an ELF executable of the image's architecture"}, Scope::root_tree, rule_shell_elf},
    Rule{{"shell-mode", Severity::error, "/bin/sh (and /bin/bash) has mode 0755"}, Scope::root_tree, rule_shell_mode},
    Rule{{"systemd-init", Severity::error, "with [boot] systemd, /sbin/init is an ELF executable of the architecture"}, Scope::root_tree, rule_systemd_init},
    Rule{{"os-release", Severity::warning, "os-release has ID and VERSION_ID (WSL shows them)"}, Scope::root_tree, rule_os_release},
    Rule{{"usr-bin-id", Severity::warning, "/usr/bin/id exists (wsl --manage --set-default-user runs it)"}, Scope::root_tree, rule_usr_bin_id},
    Rule{{"kernel-payload", Severity::warning, "no kernel, initramfs or kernel modules (WSL has its own)"}, Scope::any_input, rule_kernel_payload},
    Rule{{"resolv-conf", Severity::warning, "no /etc/resolv.conf (WSL generates it)"}, Scope::any_input, rule_resolv_conf},
    Rule{{"security-xattrs", Severity::warning, "no security.selinux/ima/evm attributes (WSL 1 cannot store them)"}, Scope::any_input, rule_security_xattrs},
    Rule{{"size", Severity::warning, "the file content stays under the size limit"}, Scope::any_input, rule_size},
    Rule{{"wsl-conf-syntax", Severity::warning, "/etc/wsl.conf parses and uses only keys WSL knows"}, Scope::any_input, rule_wsl_conf_syntax},
    Rule{{"wsl-conf-default-user", Severity::warning, "/etc/wsl.conf does not set [user] default"}, Scope::any_input, rule_wsl_conf_default_user},
    Rule{{"wsl-conf-file", Severity::error, "/etc/wsl.conf is a regular file owned by root with mode 0644"}, Scope::root_tree, rule_wsl_conf_file},
    Rule{{"distribution-conf-file", Severity::error, "/etc/wsl-distribution.conf is a regular file, root:root, mode 0644"}, Scope::root_tree, rule_distribution_conf_file},
    Rule{{"distribution-conf-keys", Severity::error, "/etc/wsl-distribution.conf parses and has only the keys WSL reads"}, Scope::root_tree, rule_distribution_conf_keys},
    Rule{{"oobe-command", Severity::error, "[oobe] command is a root-owned 0755 program under /usr/lib/wsl or /usr/libexec/wsl, of the image's architecture"}, Scope::root_tree, rule_oobe_command},
    Rule{{"oobe-default-uid", Severity::error, "[oobe] defaultUid is set (a number) when [oobe] command is"}, Scope::root_tree, rule_oobe_default_uid},
    Rule{{"oobe-default-name", Severity::error, "[oobe] defaultName is set and matches ^[a-zA-Z0-9._-]{1,256}$"}, Scope::root_tree, rule_oobe_default_name},
    Rule{{"shortcut-icon", Severity::error, "[shortcut] icon is a root-owned 0644 .ico of at most 1 MiB under /usr/lib/wsl or /usr/share/wsl"}, Scope::root_tree, rule_shortcut_icon},
    Rule{{"terminal-profile", Severity::error, "[windowsterminal] profileTemplate is root-owned 0640/0660 JSON with a profiles array, at most 1 MiB, under /usr/lib/wsl"}, Scope::root_tree, rule_terminal_profile},
    Rule{{"systemd-units", Severity::warning, "no enabled systemd unit that breaks under WSL (resolved, networkd, tmp.mount, ...)"}, Scope::root_tree, rule_systemd_units},
};
// clang-format on

constexpr auto kRuleInfos = []
{
    std::array<RuleInfo, kRules.size()> infos{};
    for (std::size_t i = 0; i < kRules.size(); ++i)
    {
        infos.at(i) = kRules.at(i).info;
    }
    return infos;
}();

} // namespace

bool is_root_tree(const ImageFacts& facts)
{
    return !wrapping_folder(facts)
           && (facts.exists("etc") || facts.resolve("bin/sh").member != nullptr);
}

std::string rebuild_command(const RuleContext& c, std::string_view args)
{
    return fmt::format(
        "azurelinux image build --from {}{}{} -o NEW.wsl",
        c.input_name(),
        args.empty() ? "" : " ",
        args);
}

std::span<const Rule> rule_table()
{
    return kRules;
}

std::span<const RuleInfo> rule_infos()
{
    return kRuleInfos;
}

} // namespace azl::rootfs::check_detail
