// Rules about the account databases: /etc/passwd, /etc/group, /etc/shadow. Messages name users,
// never password fields.

#include "check_internal.hpp"

#include <fmt/format.h>

#include <charconv>
#include <map>

namespace azl::rootfs::check_detail
{

namespace
{

struct Line
{
    int number = 0;
    std::vector<std::string_view> fields; // split on ':', empty fields kept
};

// The non-blank lines of a colon-separated database.
std::vector<Line> read_database(std::string_view text)
{
    std::vector<Line> lines;
    int number = 0;
    std::size_t pos = 0;
    while (pos < text.size())
    {
        const std::size_t eol = std::min(text.find('\n', pos), text.size());
        std::string_view line = text.substr(pos, eol - pos);
        pos = eol + 1;
        ++number;
        if (!line.empty() && line.back() == '\r')
        {
            line.remove_suffix(1);
        }
        if (line.find_first_not_of(" \t") == std::string_view::npos)
        {
            continue;
        }
        Line l;
        l.number = number;
        std::size_t i = 0;
        for (;;)
        {
            const std::size_t colon = line.find(':', i);
            l.fields.push_back(line.substr(i, colon == std::string_view::npos ? colon : colon - i));
            if (colon == std::string_view::npos)
            {
                break;
            }
            i = colon + 1;
        }
        lines.push_back(std::move(l));
    }
    return lines;
}

std::optional<std::uint32_t> parse_id(std::string_view s)
{
    std::uint32_t value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    {
        return std::nullopt;
    }
    return value;
}

const CapturedFile* passwd(const RuleContext& c)
{
    return c.facts().content("etc/passwd");
}

std::string fix_passwd_hint()
{
    return "fix /etc/passwd in the source tree (each line name:x:uid:gid:gecos:home:shell) and "
           "rebuild";
}

// Whether a password field holds a hash (locked "!hash" included: the docs ask for none at all).
bool holds_hash(std::string_view field)
{
    while (!field.empty() && field.front() == '!')
    {
        field.remove_prefix(1);
    }
    return !field.empty() && field != "*" && field != "x";
}

} // namespace

void rule_passwd_present(RuleContext& c)
{
    if (passwd(c) != nullptr)
    {
        return;
    }
    const Member* m = c.facts().find("etc/passwd");
    c.report(
        "etc/passwd",
        m == nullptr
            ? std::string("there is no /etc/passwd: WSL needs root's entry to start")
            : fmt::format(
                "/etc/passwd is a {} that does not lead to a regular file", type_name(m->type)),
        "ship the base account files (Azure Linux: the filesystem and shadow-utils packages)");
}

void rule_passwd_format(RuleContext& c)
{
    const CapturedFile* file = passwd(c);
    if (file == nullptr)
    {
        return;
    }
    std::map<std::uint32_t, std::string_view> owners;
    for (const Line& l : read_database(file->content))
    {
        const std::string_view name = l.fields.front();
        if (l.fields.size() != 7)
        {
            c.report(
                "etc/passwd",
                fmt::format(
                    "/etc/passwd line {} (user '{}') has {} fields instead of 7",
                    l.number,
                    name,
                    l.fields.size()),
                fix_passwd_hint());
            continue;
        }
        const auto uid = parse_id(l.fields[2]);
        const auto gid = parse_id(l.fields[3]);
        if (!uid || !gid)
        {
            c.report(
                "etc/passwd",
                fmt::format(
                    "/etc/passwd line {}: the {} of user '{}' is not a number",
                    l.number,
                    uid ? "gid" : "uid",
                    name),
                fix_passwd_hint());
            continue;
        }
        const auto [it, fresh] = owners.emplace(*uid, name);
        if (!fresh)
        {
            c.report(
                "etc/passwd",
                fmt::format(
                    "/etc/passwd line {}: user '{}' has uid {}, already used by '{}'",
                    l.number,
                    name,
                    *uid,
                    it->second),
                fix_passwd_hint());
        }
    }
}

void rule_passwd_root(RuleContext& c)
{
    const CapturedFile* file = passwd(c);
    if (file == nullptr)
    {
        return;
    }
    for (const Line& l : read_database(file->content))
    {
        if (l.fields.front() == "root" && l.fields.size() == 7)
        {
            if (parse_id(l.fields[2]) != std::optional<std::uint32_t>(0))
            {
                c.report(
                    "etc/passwd",
                    fmt::format(
                        "/etc/passwd line {}: root has uid '{}', not 0", l.number, l.fields[2]),
                    fix_passwd_hint());
            }
            return;
        }
    }
    c.report("etc/passwd", "/etc/passwd has no root user (uid 0 named root)", fix_passwd_hint());
}

void rule_passwd_default_uid(RuleContext& c)
{
    const CapturedFile* file = passwd(c);
    if (file == nullptr)
    {
        return;
    }
    const std::uint32_t uid = c.options().default_uid;
    for (const Line& l : read_database(file->content))
    {
        if (l.fields.size() == 7 && parse_id(l.fields[2]) == std::optional<std::uint32_t>(uid))
        {
            c.report(
                "etc/passwd",
                fmt::format(
                    "user '{}' already has uid {}: first-run setup cannot create the default user "
                    "with it",
                    l.fields.front(),
                    uid),
                fmt::format(
                    "remove '{}' from /etc/passwd, /etc/shadow and /etc/group in the source "
                    "(userdel), or "
                    "check with the --default-uid the image uses",
                    l.fields.front()));
        }
    }
}

void rule_group_file(RuleContext& c)
{
    const CapturedFile* file = c.facts().content("etc/group");
    const std::string hint =
        "fix /etc/group in the source tree (each line name:x:gid:members) and rebuild";
    if (file == nullptr)
    {
        c.report(
            "etc/group",
            "there is no /etc/group: first-run setup cannot create the user's group",
            hint);
        return;
    }
    for (const Line& l : read_database(file->content))
    {
        if (l.fields.size() != 4)
        {
            c.report(
                "etc/group",
                fmt::format(
                    "/etc/group line {} (group '{}') has {} fields instead of 4",
                    l.number,
                    l.fields.front(),
                    l.fields.size()),
                hint);
        }
        else if (!parse_id(l.fields[2]))
        {
            c.report(
                "etc/group",
                fmt::format(
                    "/etc/group line {}: the gid of group '{}' is not a number",
                    l.number,
                    l.fields.front()),
                hint);
        }
    }
}

void rule_shadow_mode(RuleContext& c)
{
    const Resolved r = c.facts().resolve("etc/shadow");
    if (r.member == nullptr)
    {
        return;
    }
    const Member& m = *r.member;
    const bool mode_ok = m.mode == 0640U || m.mode == 0600U || m.mode == 0U;
    if (m.type != EntryType::file || !mode_ok || m.uid != 0)
    {
        c.report(
            "etc/shadow",
            m.type != EntryType::file
                ? fmt::format("/etc/shadow is a {}, not a regular file", type_name(m.type))
                : fmt::format(
                    "/etc/shadow has mode {:04o} and owner uid {}; WSL requires root with 0640, "
                    "0600 "
                    "or 0000",
                    m.mode,
                    m.uid),
            "chown root /etc/shadow; chmod 0640 /etc/shadow in the source tree, then rebuild");
    }
}

void rule_password_hashes(RuleContext& c)
{
    const std::string hint =
        "lock the accounts in the source (passwd -l / usermod -p '!' USER, or '*' in the password "
        "field) and rebuild; first-run setup sets the user's password";
    if (const CapturedFile* shadow = c.facts().content("etc/shadow"))
    {
        for (const Line& l : read_database(shadow->content))
        {
            if (l.fields.size() < 2)
            {
                continue;
            }
            const std::string_view user = l.fields[0];
            if (l.fields[1].empty())
            {
                c.report(
                    "etc/shadow",
                    fmt::format(
                        "user '{}' has an empty password in /etc/shadow: anyone can log in as it",
                        user),
                    hint);
            }
            else if (holds_hash(l.fields[1]))
            {
                c.report(
                    "etc/shadow",
                    fmt::format("/etc/shadow holds a password hash for user '{}'", user),
                    hint);
            }
        }
    }
    if (const CapturedFile* file = passwd(c))
    {
        for (const Line& l : read_database(file->content))
        {
            if (l.fields.size() == 7 && holds_hash(l.fields[1]))
            {
                c.report(
                    "etc/passwd",
                    fmt::format("/etc/passwd holds a password hash for user '{}'", l.fields[0]),
                    hint);
            }
        }
    }
}

} // namespace azl::rootfs::check_detail
