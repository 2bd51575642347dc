// Rules about the files of WSL's modern distribution format: /etc/wsl-distribution.conf and what it
// names (the first-run command, the shortcut icon, the Terminal profile template), the mode of
// /etc/wsl.conf, and systemd units that break under WSL. They apply to images that ship
// /etc/wsl-distribution.conf (WSL installs others without first-run setup, icon or profile).

#include "check_internal.hpp"

#include <azl/common/error.hpp>
#include <azl/common/ini.hpp>
#include <azl/common/wsl_facts.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <set>

namespace azl::rootfs::check_detail
{

namespace
{

constexpr std::string_view kConfPath = "etc/wsl-distribution.conf";
constexpr std::uint64_t kMaxAssetBytes = 1U << 20U;
constexpr std::string_view kRebuildHint =
    "rebuild with azurelinux image build, which writes these files as WSL expects";

// These lists live in azl/common/wsl_facts.hpp: packaging writes the same keys and masks the same
// units with --mask-units.
constexpr const auto& kConfKeys = kDistributionConfKeys;
constexpr const auto& kHostileUnits = kWslHostileUnits;
constexpr const auto& kUnitDirs = kSystemdUnitDirs;

// The parsed /etc/wsl-distribution.conf, or nullopt when absent or unparsable (the keys rule says).
std::optional<IniFile> read_conf(const ImageFacts& f)
{
    const CapturedFile* file = f.content(kConfPath);
    if (file == nullptr)
    {
        return std::nullopt;
    }
    try
    {
        return IniFile::parse(file->content, "/etc/wsl-distribution.conf");
    }
    catch (const UserError&)
    {
        return std::nullopt;
    }
}

bool enabled(const IniFile& conf, std::string_view section)
{
    const auto value = conf.get(section, "enabled");
    return !value || parse_ini_bool(*value).value_or(false);
}

bool under(std::string_view path, std::initializer_list<std::string_view> dirs)
{
    return std::any_of(
        dirs.begin(),
        dirs.end(),
        [&](std::string_view d) { return path.starts_with(d) && path.size() > d.size(); });
}

// Checks the file a key names: absolute, in one of `dirs`, a root-owned regular file with one of
// `modes`, at most `max_bytes`. Returns its member when it is there, for content checks.
const Member* check_named_file(
    RuleContext& c,
    std::string_view key,
    const std::string& value,
    std::initializer_list<std::string_view> dirs,
    std::initializer_list<std::uint32_t> modes,
    std::uint64_t max_bytes)
{
    const std::string shown_dirs = fmt::format("/{}", fmt::join(dirs, " or /"));
    const std::optional<std::string> path =
        value.starts_with('/') ? normalize_path(value) : std::nullopt;
    if (!path || !under(*path, dirs))
    {
        c.report(
            std::string(kConfPath),
            fmt::format("{} = {} is not a file under {}, where WSL looks", key, value, shown_dirs),
            fmt::format("install it under {} and name it by its absolute path", shown_dirs));
        return nullptr;
    }
    const Resolved r = c.facts().resolve(*path);
    if (r.member == nullptr || r.member->type != EntryType::file)
    {
        c.report(
            *path,
            fmt::format(
                "{} names {}, which {}",
                key,
                value,
                r.member == nullptr ? "is not in the image"
                                    : fmt::format("is a {}", type_name(r.member->type))),
            fmt::format("ship the file, or remove {} from /etc/wsl-distribution.conf", key));
        return nullptr;
    }
    const Member& m = *r.member;
    const bool mode_ok = std::find(modes.begin(), modes.end(), m.mode) != modes.end();
    std::vector<std::string> wanted;
    for (const std::uint32_t mode : modes)
    {
        wanted.push_back(fmt::format("{:04o}", mode));
    }
    if (m.uid != 0 || !mode_ok)
    {
        c.report(
            *path,
            fmt::format(
                "{} has mode {:04o} and owner uid {}; WSL requires root with mode {}",
                image_path(*path),
                m.mode,
                m.uid,
                fmt::join(wanted, " or ")),
            fmt::format(
                "chown root:root {}; chmod {} {} in the source tree, then rebuild",
                image_path(*path),
                wanted.front(),
                image_path(*path)));
    }
    if (m.size > max_bytes)
    {
        c.report(
            *path,
            fmt::format(
                "{} is {} bytes; WSL refuses files over {} bytes",
                image_path(*path),
                m.size,
                max_bytes),
            "make it smaller");
    }
    return &m;
}

std::uint32_t le(std::string_view b, std::size_t off, std::size_t n)
{
    std::uint32_t v = 0;
    for (std::size_t i = n; i-- > 0;)
    {
        v = (v << 8U) | static_cast<unsigned char>(b[off + i]);
    }
    return v;
}

// Why `ico` is not a usable Windows icon, or empty.
std::string ico_problem(std::string_view ico)
{
    if (ico.size() < 6 || le(ico, 0, 2) != 0 || le(ico, 2, 2) != 1)
    {
        return "it does not start with an ICO header (reserved 0, type 1)";
    }
    const std::uint32_t count = le(ico, 4, 2);
    if (count == 0 || 6 + 16ULL * count > ico.size())
    {
        return fmt::format("its directory of {} images does not fit the file", count);
    }
    for (std::uint32_t i = 0; i < count; ++i)
    {
        const std::size_t entry = 6 + 16 * static_cast<std::size_t>(i);
        const std::uint64_t size = le(ico, entry + 8, 4);
        const std::uint64_t offset = le(ico, entry + 12, 4);
        if (size < 8 || offset + size > ico.size())
        {
            return fmt::format("image {} lies outside the file", i + 1);
        }
        const std::string_view data = ico.substr(offset, 8);
        if (data != std::string_view("\x89PNG\r\n\x1a\n", 8) && le(data, 0, 4) != 40)
        {
            return fmt::format("image {} is neither PNG nor a bitmap", i + 1);
        }
    }
    return {};
}

std::string base_name(std::string_view path)
{
    const std::size_t slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

} // namespace

void rule_distribution_conf_file(RuleContext& c)
{
    const Resolved r = c.facts().resolve(kConfPath);
    if (c.facts().find(kConfPath) == nullptr)
    {
        return;
    }
    if (r.member == nullptr || r.member->type != EntryType::file)
    {
        c.report(
            std::string(kConfPath),
            "/etc/wsl-distribution.conf does not lead to a regular file",
            std::string(kRebuildHint));
        return;
    }
    const Member& m = *r.member;
    if (m.uid != 0 || m.gid != 0 || m.mode != 0644U)
    {
        c.report(
            std::string(kConfPath),
            fmt::format(
                "/etc/wsl-distribution.conf has mode {:04o} and owner {}:{}; WSL requires "
                "root:root 0644",
                m.mode,
                m.uid,
                m.gid),
            "chown root:root and chmod 0644 it in the source tree, then rebuild");
    }
}

void rule_distribution_conf_keys(RuleContext& c)
{
    const CapturedFile* file = c.facts().content(kConfPath);
    if (file == nullptr)
    {
        return;
    }
    const std::string hint = "WSL reads only [oobe] command, defaultUid, defaultName; [shortcut] "
                             "enabled, icon; [windowsterminal] enabled, profileTemplate";
    try
    {
        const IniFile conf = IniFile::parse(file->content, "/etc/wsl-distribution.conf");
        for (const auto& item : conf.items())
        {
            const std::string key = item.section + "." + item.key;
            if (std::find(kConfKeys.begin(), kConfKeys.end(), key) == kConfKeys.end())
            {
                c.report(
                    std::string(kConfPath),
                    fmt::format(
                        "/etc/wsl-distribution.conf line {}: WSL does not know [{}] {}",
                        item.line,
                        item.section,
                        item.key),
                    hint);
            }
            else if (item.key == "enabled" && !parse_ini_bool(item.value))
            {
                c.report(
                    std::string(kConfPath),
                    fmt::format(
                        "/etc/wsl-distribution.conf line {}: [{}] enabled = {} is not a boolean",
                        item.line,
                        item.section,
                        item.value),
                    "use true or false");
            }
        }
    }
    catch (const UserError& e)
    {
        c.report(
            std::string(kConfPath), e.what(), "fix the line: WSL refuses what it cannot parse");
    }
}

void rule_oobe_command(RuleContext& c)
{
    const auto conf = read_conf(c.facts());
    const auto command = conf ? conf->get("oobe", "command") : std::nullopt;
    if (!command)
    {
        return;
    }
    if (command->find_first_of(" \t") != std::string::npos)
    {
        c.report(
            std::string(kConfPath),
            fmt::format("[oobe] command = {} has arguments; WSL takes a path only", *command),
            "point it at a program (or a wrapper script) that needs no arguments");
        return;
    }
    const Member* m = check_named_file(
        c,
        "[oobe] command",
        *command,
        {"usr/lib/wsl/", "usr/libexec/wsl/"},
        {0755U},
        std::numeric_limits<std::uint64_t>::max());
    if (m == nullptr || m->elf_probe != ElfProbe::elf || c.arch().empty())
    {
        return;
    }
    const std::string arch = elf_arch_name(m->elf);
    if (arch != c.arch())
    {
        c.report(
            std::string(kConfPath),
            fmt::format(
                "the first-run program {} is built for {}, but the image is for {}: every first "
                "launch would fail",
                *command,
                arch,
                c.arch()),
            fmt::format("rebuild with --oobe set to the {} build of azurelinux-oobe", c.arch()));
    }
}

void rule_oobe_default_uid(RuleContext& c)
{
    const auto conf = read_conf(c.facts());
    if (!conf || !conf->get("oobe", "command"))
    {
        return;
    }
    const auto uid = conf->get("oobe", "defaultUid");
    std::uint32_t value = 0;
    const bool number = uid
                        && std::from_chars(uid->data(), uid->data() + uid->size(), value).ptr
                               == uid->data() + uid->size()
                        && !uid->empty();
    if (!number)
    {
        c.report(
            std::string(kConfPath),
            uid ? fmt::format("[oobe] defaultUid = {} is not a number", *uid)
                : std::string("[oobe] has a command but no defaultUid: after first-run setup WSL "
                              "would still log in as root"),
            "set [oobe] defaultUid = 1000, the uid first-run setup gives the user");
    }
}

void rule_oobe_default_name(RuleContext& c)
{
    const auto conf = read_conf(c.facts());
    if (!conf)
    {
        return;
    }
    const auto name = conf->get("oobe", "defaultName");
    if (!name || !valid_wsl_name(*name))
    {
        c.report(
            std::string(kConfPath),
            name ? fmt::format(
                "[oobe] defaultName = {} is not a name WSL takes (1 to 256 of A-Z a-z 0-9 . _ -, "
                "not Legacy)",
                *name)
                 : std::string("[oobe] has no defaultName: double-clicking the .wsl (wsl --install "
                               "--from-file without --name) fails"),
            "rebuild with --default-name NAME, e.g. AzureLinux");
    }
}

void rule_shortcut_icon(RuleContext& c)
{
    const auto conf = read_conf(c.facts());
    const auto icon = conf ? conf->get("shortcut", "icon") : std::nullopt;
    if (!icon || !enabled(*conf, "shortcut"))
    {
        return;
    }
    const Member* m = check_named_file(
        c, "[shortcut] icon", *icon, {"usr/lib/wsl/", "usr/share/wsl/"}, {0644U}, kMaxAssetBytes);
    const CapturedFile* file = m != nullptr ? c.facts().content(*normalize_path(*icon)) : nullptr;
    if (file == nullptr || file->truncated)
    {
        return;
    }
    if (const std::string problem = ico_problem(file->content); !problem.empty())
    {
        c.report(
            *normalize_path(*icon),
            fmt::format("{} is not a Windows icon: {}", *icon, problem),
            "ship a real .ico (azurelinux image build adds one with 16 to 256 px frames)");
    }
}

void rule_terminal_profile(RuleContext& c)
{
    const auto conf = read_conf(c.facts());
    const auto profile = conf ? conf->get("windowsterminal", "profileTemplate") : std::nullopt;
    if (!profile || !enabled(*conf, "windowsterminal"))
    {
        return;
    }
    const Member* m = check_named_file(
        c,
        "[windowsterminal] profileTemplate",
        *profile,
        {"usr/lib/wsl/"},
        {0640U, 0660U},
        kMaxAssetBytes);
    const CapturedFile* file =
        m != nullptr ? c.facts().content(*normalize_path(*profile)) : nullptr;
    if (file == nullptr || file->truncated)
    {
        return;
    }
    const auto doc = nlohmann::json::parse(file->content, nullptr, false, false);
    const bool ok = doc.is_object() && doc.contains("profiles") && doc["profiles"].is_array()
                    && std::all_of(
                        doc["profiles"].begin(),
                        doc["profiles"].end(),
                        [](const nlohmann::json& p) { return p.is_object(); });
    if (!ok)
    {
        c.report(
            *normalize_path(*profile),
            fmt::format(
                "{} is not a Terminal profile template: WSL wants a JSON object (no comments) "
                "with a \"profiles\" array of objects",
                *profile),
            R"(fix the JSON; e.g. {"profiles": [{"startingDirectory": "~"}]})");
    }
}

void rule_wsl_conf_file(RuleContext& c)
{
    if (c.facts().find("etc/wsl.conf") == nullptr)
    {
        return;
    }
    const Resolved r = c.facts().resolve("etc/wsl.conf");
    if (r.member == nullptr || r.member->type != EntryType::file || r.member->uid != 0
        || r.member->mode != 0644U)
    {
        c.report(
            "etc/wsl.conf",
            r.member == nullptr || r.member->type != EntryType::file
                ? std::string("/etc/wsl.conf does not lead to a regular file")
                : fmt::format(
                    "/etc/wsl.conf has mode {:04o} and owner uid {}; WSL expects root with 0644",
                    r.member->mode,
                    r.member->uid),
            "chown root:root and chmod 0644 /etc/wsl.conf in the source tree, then rebuild");
    }
}

void rule_systemd_units(RuleContext& c)
{
    std::set<std::string> wanted;
    std::set<std::string> masked;
    for (const Member& m : c.facts().members)
    {
        const std::string unit = base_name(m.path);
        if (std::find(kHostileUnits.begin(), kHostileUnits.end(), unit) == kHostileUnits.end())
        {
            continue;
        }
        const std::string dir = parent_path(m.path);
        if (dir == "etc/systemd/system" && m.type == EntryType::symlink
            && m.link_target == "/dev/null")
        {
            masked.insert(unit);
        }
        else if (
            (dir.ends_with(".wants") || dir.ends_with(".requires"))
            && std::find(kUnitDirs.begin(), kUnitDirs.end(), parent_path(dir)) != kUnitDirs.end())
        {
            wanted.insert(unit);
        }
    }
    for (const std::string& unit : wanted)
    {
        if (!masked.contains(unit))
        {
            c.report(
                "etc/systemd/system/" + unit,
                fmt::format("systemd unit {} is enabled but breaks under WSL", unit),
                fmt::format(
                    "mask it: {} (or systemctl mask {} in the source)",
                    rebuild_command(c, "--mask-units"),
                    unit));
        }
    }
}

} // namespace azl::rootfs::check_detail
