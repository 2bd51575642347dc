#include "base64.hpp"
#include "text.hpp"

#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/common/text.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/cloud_init.hpp>
#include <azl/oobe/users.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <utility>

namespace azl::oobe
{

namespace fs = std::filesystem;
using nlohmann::json;

namespace
{

constexpr std::size_t kMaxUserData = 16U << 20U;

// Why a user-data text is not translated (empty for #cloud-config). cloud-init tells the kinds
// apart by the start of the text, lower-cased, after leading white space; the longest prefix wins.
std::string other_user_data_kind(std::string_view text)
{
    if (text.size() >= 2 && static_cast<unsigned char>(text[0]) == 0x1f
        && static_cast<unsigned char>(text[1]) == 0x8b)
    {
        return "gzip-compressed user-data";
    }
    const std::string lower = ascii_lower(trim(text.substr(0, 256)));
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kKinds = {{
        {"#cloud-config-archive", "a cloud-config archive (#cloud-config-archive)"},
        {"#cloud-config-jsonp", "a JSON patch (#cloud-config-jsonp)"},
        {"#cloud-config", ""},
        {"#include-once", "an include list (#include-once)"},
        {"#include", "an include list (#include)"},
        {"#cloud-boothook", "a boothook (#cloud-boothook)"},
        {"#part-handler", "a part handler (#part-handler)"},
        {"#upstart-job", "an upstart job (#upstart-job)"},
        {"## template: jinja", "a Jinja template (## template: jinja)"},
        {"#!", "a shell script (#!)"},
        {"content-type:", "MIME multi-part user-data"},
    }};
    for (const auto& [prefix, kind] : kKinds)
    {
        if (lower.starts_with(prefix))
        {
            return std::string(kind);
        }
    }
    if (lower.starts_with("mime-version:"))
    {
        return "MIME multi-part user-data";
    }
    return "not cloud-config (its first line is not #cloud-config)";
}

std::string join_path(std::string_view parent, std::string_view key)
{
    return parent.empty() ? std::string(key) : fmt::format("{}/{}", parent, key);
}

// Reasons for top-level keys first-run setup knows but does not translate; others get a generic
// one.
std::string_view ignored_reason(std::string_view key)
{
    static const std::map<std::string_view, std::string_view> reasons = {
        {"bootcmd", "runs at every boot; put one-time commands under runcmd"},
        {"network", "WSL manages the network"},
        {"resolv_conf", "WSL writes /etc/resolv.conf (see [network] in /etc/wsl.conf)"},
        {"manage_resolv_conf", "WSL writes /etc/resolv.conf (see [network] in /etc/wsl.conf)"},
        {"manage_etc_hosts", "WSL writes /etc/hosts"},
        {"growpart", "WSL manages the disk"},
        {"resize_rootfs", "WSL manages the disk"},
        {"disk_setup", "WSL manages the disk"},
        {"fs_setup", "WSL manages the disk"},
        {"mounts", "WSL manages mounts (see [automount] in /etc/wsl.conf)"},
        {"grub_dpkg", "WSL boots the distribution, not GRUB"},
        {"power_state", "WSL starts and stops the distribution"},
        {"snap", "no snapd in this image"},
        {"ubuntu_pro", "Ubuntu only"},
        {"ubuntu_advantage", "Ubuntu only"},
        {"landscape", "Ubuntu only"},
        {"groups", "groups are not created; name existing ones under users"},
        {"chpasswd", "set the password with hashed_passwd under users"},
        {"ssh_pwauth", "sshd is not configured by first-run setup"},
        {"ssh_authorized_keys",
         "these are for the distribution's default user, which this image does not have; list "
         "them under users"},
        {"package_reboot_if_required", "restart with `wsl --terminate` when needed"},
        {"apt_reboot_if_required", "restart with `wsl --terminate` when needed"},
        {"fqdn", "hostname is used"},
        {"prefer_fqdn_over_hostname", "hostname is used"},
        {"merge_how", "there is one user-data file, nothing to merge"},
        {"merge_type", "there is one user-data file, nothing to merge"},
    };
    const auto it = reasons.find(key);
    return it == reasons.end() ? std::string_view("no equivalent in first-run setup") : it->second;
}

// A name usable as a file stem for a repository or certificate.
std::string file_stem(std::string_view name)
{
    std::string out;
    for (const char c : name)
    {
        const bool ok =
            std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
        out.push_back(ok ? c : '-');
    }
    while (!out.empty() && out.front() == '.')
    {
        out.erase(0, 1);
    }
    if (out.ends_with(".list") || out.ends_with(".repo"))
    {
        out.resize(out.size() - 5);
    }
    return out.substr(0, 48);
}

// Quotes one argument for /bin/sh.
std::string shell_quote(std::string_view arg)
{
    if (!arg.empty() && detail::all_chars(arg, "-_./=:,+@%"))
    {
        return std::string(arg);
    }
    std::string out = "'";
    for (const char c : arg)
    {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

// Releases a zlib stream (RAII for inflateInit2's state).
struct InflateStream
{
    z_stream z{};
    bool open = false;

    InflateStream() = default;
    InflateStream(const InflateStream&) = delete;
    InflateStream& operator=(const InflateStream&) = delete;
    InflateStream(InflateStream&&) = delete;
    InflateStream& operator=(InflateStream&&) = delete;

    ~InflateStream()
    {
        if (open)
        {
            inflateEnd(&z);
        }
    }
};

// The gzip member in `data`, uncompressed; nullopt when it is not gzip or larger than the limit.
std::optional<std::string> gunzip(std::string_view data)
{
    InflateStream s;
    if (inflateInit2(&s.z, 16 + MAX_WBITS) != Z_OK)
    {
        return std::nullopt;
    }
    s.open = true;
    std::vector<Bytef> in(data.begin(), data.end());
    s.z.next_in = in.data();
    s.z.avail_in = static_cast<uInt>(in.size());
    std::string out;
    std::vector<Bytef> buffer(std::size_t{64} * 1024);
    int rc = Z_OK;
    while (rc == Z_OK)
    {
        s.z.next_out = buffer.data();
        s.z.avail_out = static_cast<uInt>(buffer.size());
        rc = inflate(&s.z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END)
        {
            return std::nullopt;
        }
        out.append(buffer.begin(), buffer.end() - s.z.avail_out);
        if (out.size() > kMaxUserData)
        {
            return std::nullopt;
        }
        if (rc == Z_OK && s.z.avail_in == 0 && s.z.avail_out != 0)
        {
            return std::nullopt; // truncated
        }
    }
    return out;
}

// Translates one #cloud-config mapping into answers, collecting what it does not use.
class Translator
{
public:
    Translator(std::string origin, const CloudConfigTarget& target)
        : m_origin(std::move(origin))
        , m_target(target)
    {
    }

    json translate(const YAML::Node& root)
    {
        json doc{{"version", kAnswersVersion}};
        if (!root || root.IsNull())
        {
            return doc;
        }
        if (!root.IsMap())
        {
            fail(root, "", "expected a mapping of cloud-config keys");
        }
        for (const auto& item : root)
        {
            const auto key = item.first.as<std::string>();
            const YAML::Node& value = item.second;
            translate_key(doc, key, value, root);
        }
        finish_user(doc, root);
        return doc;
    }

    std::vector<std::string> take_ignored()
    {
        return std::move(m_ignored);
    }

private:
    [[noreturn]] void
    fail(const YAML::Node& node, std::string_view path, std::string_view problem) const
    {
        const auto mark = node.Mark();
        const std::string where =
            mark.is_null() ? m_origin : fmt::format("{}: line {}", m_origin, mark.line + 1);
        throw AnswersError(where, path, problem);
    }

    void ignore(std::string_view path, std::string_view reason)
    {
        m_ignored.push_back(fmt::format("{}: not used ({})", path, reason));
    }

    [[nodiscard]] std::string scalar(const YAML::Node& n, std::string_view path) const
    {
        if (!n.IsScalar())
        {
            fail(n, path, "expected a string");
        }
        return n.Scalar();
    }

    // A YAML 1.1 boolean, as cloud-init's PyYAML reads it.
    [[nodiscard]] bool boolean(const YAML::Node& n, std::string_view path) const
    {
        if (n.IsScalar() && n.Tag() != "!")
        {
            const auto v = ascii_lower(n.Scalar());
            if (v == "true" || v == "yes" || v == "on")
            {
                return true;
            }
            if (v == "false" || v == "no" || v == "off")
            {
                return false;
            }
        }
        fail(n, path, "expected true or false");
    }

    // A list of strings, or one string of comma-separated items.
    [[nodiscard]] std::vector<std::string>
    string_list(const YAML::Node& n, std::string_view path) const
    {
        std::vector<std::string> out;
        if (n.IsScalar())
        {
            std::string_view rest = n.Scalar();
            while (!rest.empty())
            {
                const auto comma = rest.find(',');
                const auto part = trim(rest.substr(0, comma));
                if (!part.empty())
                {
                    out.emplace_back(part);
                }
                rest =
                    comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            }
            return out;
        }
        if (!n.IsSequence())
        {
            fail(n, path, "expected a list of strings");
        }
        for (std::size_t i = 0; i < n.size(); ++i)
        {
            out.push_back(scalar(n[i], fmt::format("{}/{}", path, i)));
        }
        return out;
    }

    void translate_key(
        json& doc, const std::string& key, const YAML::Node& value, const YAML::Node& root)
    {
        if (key == "users" || key == "user")
        {
            return; // finish_user reads both
        }
        if (key == "write_files")
        {
            write_files(doc, value);
        }
        else if (key == "packages")
        {
            packages(doc, value);
        }
        else if (key == "package_update" || key == "apt_update")
        {
            doc["package_update"] = doc.value("package_update", false) || boolean(value, key);
        }
        else if (key == "package_upgrade" || key == "apt_upgrade")
        {
            doc["package_upgrade"] = doc.value("package_upgrade", false) || boolean(value, key);
        }
        else if (key == "runcmd")
        {
            runcmd(doc, value);
        }
        else if (key == "ca_certs" || key == "ca-certs")
        {
            ca_certs(doc, key, value);
        }
        else if (key == "apt")
        {
            apt(doc, value);
        }
        else if (key == "yum_repos")
        {
            yum_repos(doc, value);
        }
        else if (key == "locale")
        {
            if (!(value.IsScalar() && ascii_lower(value.Scalar()) == "false"))
            {
                doc["locale"] = scalar(value, key);
            }
        }
        else if (key == "timezone")
        {
            doc["timezone"] = scalar(value, key);
        }
        else if (key == "hostname")
        {
            if (root["preserve_hostname"]
                && boolean(root["preserve_hostname"], "preserve_hostname"))
            {
                ignore(key, "preserve_hostname is true");
            }
            else
            {
                doc["hostname"] = scalar(value, key);
            }
        }
        else if (key == "preserve_hostname")
        {
            (void)boolean(value, key);
        }
        else
        {
            ignore(key, ignored_reason(key));
        }
    }

    // users (and user, the default user's settings): the first user that is not the
    // distribution's default one becomes the first user; WSL's default user is uid 1000.
    void finish_user(json& doc, const YAML::Node& root)
    {
        const YAML::Node users = root["users"];
        const YAML::Node user = root["user"];
        std::vector<std::pair<YAML::Node, std::string>> entries; // entry, its path
        if (users && !users.IsNull())
        {
            if (users.IsScalar())
            {
                for (const auto& name : string_list(users, "users"))
                {
                    YAML::Node n;
                    n = name;
                    entries.emplace_back(n, "users");
                }
            }
            else if (users.IsSequence())
            {
                for (std::size_t i = 0; i < users.size(); ++i)
                {
                    entries.emplace_back(users[i], fmt::format("users/{}", i));
                }
            }
            else if (users.IsMap())
            {
                for (const auto& item : users)
                {
                    YAML::Node n = YAML::Clone(item.second);
                    if (n.IsNull())
                    {
                        n = YAML::Node(YAML::NodeType::Map);
                    }
                    n["name"] = item.first.as<std::string>();
                    entries.emplace_back(n, fmt::format("users/{}", item.first.as<std::string>()));
                }
            }
            else
            {
                fail(users, "users", "expected a list of users");
            }
        }
        bool done = false;
        bool default_listed = !users || users.IsNull();
        for (const auto& [entry, path] : entries)
        {
            if (entry.IsScalar() && entry.Scalar() == "default")
            {
                default_listed = true;
                if (user && !done)
                {
                    done = add_user(doc, user, "user");
                }
                else if (!user)
                {
                    ignore(
                        fmt::format("{} (default)", path),
                        "the distribution's default user: this image has none");
                }
                continue;
            }
            if (done)
            {
                const auto name = entry.IsScalar() ? entry.Scalar()
                                  : entry["name"]  ? scalar(entry["name"], path + "/name")
                                                   : std::string("?");
                ignore(
                    fmt::format("{} ({})", path, name),
                    "first-run setup creates one user, the first; add others with runcmd");
                continue;
            }
            done = add_user(doc, entry, path);
        }
        if (user && !done && default_listed)
        {
            add_user(doc, user, "user");
        }
        else if (user && !default_listed)
        {
            ignore("user", "users does not list default");
        }
    }

    // Adds one cloud-init user as the first user; false when the entry names nobody.
    bool add_user(json& doc, const YAML::Node& entry, const std::string& path)
    {
        json u = json::object();
        if (entry.IsScalar())
        {
            u["name"] = entry.Scalar();
            u["sudo"] = "none";
            doc["user"] = std::move(u);
            return true;
        }
        if (!entry.IsMap())
        {
            fail(entry, path, "expected a user name or a mapping with name");
        }
        if (!entry["name"])
        {
            fail(entry, path + "/name", "missing: every user needs a name");
        }
        bool admin = false;
        bool locked = true; // cloud-init's lock_passwd default
        std::optional<bool> nopasswd;
        std::optional<std::string> hash;
        std::optional<std::string> plain;
        std::string hash_key;
        for (const auto& item : entry)
        {
            const auto key = item.first.as<std::string>();
            const YAML::Node& v = item.second;
            const auto sub = join_path(path, key);
            if (key == "name")
            {
                u["name"] = scalar(v, sub);
            }
            else if (key == "gecos")
            {
                u["gecos"] = scalar(v, sub);
            }
            else if (key == "shell")
            {
                u["shell"] = scalar(v, sub);
            }
            else if (key == "uid")
            {
                const auto text = scalar(v, sub);
                try
                {
                    u["uid"] = std::stoll(text);
                }
                catch (const std::exception&)
                {
                    fail(v, sub, "expected a number");
                }
            }
            else if (key == "groups")
            {
                json groups = json::array();
                for (const auto& g : string_list(v, sub))
                {
                    if (g == "sudo" || g == "wheel" || g == "admin")
                    {
                        admin = true; // the image's admin group comes with the sudo setting
                    }
                    else if (m_target.group_exists && !m_target.group_exists(g))
                    {
                        ignore(
                            fmt::format("{}/{}", sub, g),
                            "no such group in this image; cloud-init would create it");
                    }
                    else if (std::find(groups.begin(), groups.end(), g) == groups.end())
                    {
                        groups.push_back(g);
                    }
                }
                if (!groups.empty())
                {
                    u["groups"] = std::move(groups);
                }
            }
            else if (key == "sudo")
            {
                if (v.IsNull() || (v.IsScalar() && ascii_lower(v.Scalar()) == "false"))
                {
                    continue;
                }
                const auto rules =
                    v.IsSequence() ? string_list(v, sub) : std::vector{scalar(v, sub)};
                for (const auto& rule : rules)
                {
                    nopasswd =
                        nopasswd.value_or(false) || rule.find("NOPASSWD") != std::string::npos;
                }
            }
            else if (key == "lock_passwd")
            {
                locked = boolean(v, sub);
            }
            else if (key == "hashed_passwd" || key == "passwd")
            {
                hash = scalar(v, sub);
                hash_key = sub;
            }
            else if (key == "plain_text_passwd")
            {
                plain = scalar(v, sub);
                hash_key = sub;
            }
            else if (key == "ssh_authorized_keys")
            {
                u["ssh_authorized_keys"] = string_list(v, sub);
            }
            else
            {
                ignore(sub, "no equivalent in first-run setup");
            }
        }
        // The sudo rule decides; without one, membership of sudo/wheel/admin gives sudo with a
        // password, as it does on Ubuntu.
        u["sudo"] = nopasswd ? (*nopasswd ? "nopasswd" : "password") : admin ? "password" : "none";
        if ((hash || plain) && locked)
        {
            ignore(hash_key, "lock_passwd is true (cloud-init's default) and locks the password");
        }
        else if (hash)
        {
            u["password_hash"] = *hash;
        }
        else if (plain)
        {
            u["password"] = *plain;
        }
        doc["user"] = std::move(u);
        return true;
    }

    void write_files(json& doc, const YAML::Node& value)
    {
        if (!value.IsSequence())
        {
            fail(value, "write_files", "expected a list of files");
        }
        for (std::size_t i = 0; i < value.size(); ++i)
        {
            const YAML::Node& f = value[i];
            const auto path = fmt::format("write_files/{}", i);
            if (!f.IsMap())
            {
                fail(f, path, "expected a mapping with path and content");
            }
            json out = json::object();
            std::string encoding;
            std::optional<YAML::Node> content; // a copy: the iterator's pair does not outlive it
            bool has_source = false;
            for (const auto& item : f)
            {
                const auto key = item.first.as<std::string>();
                const YAML::Node& v = item.second;
                const auto sub = join_path(path, key);
                if (key == "path")
                {
                    out["path"] = scalar(v, sub);
                }
                else if (key == "content")
                {
                    content = item.second;
                }
                else if (key == "encoding")
                {
                    encoding = ascii_lower(scalar(v, sub));
                }
                else if (key == "permissions")
                {
                    out["permissions"] = permissions(v, sub);
                }
                else if (key == "owner")
                {
                    out["owner"] = scalar(v, sub);
                }
                else if (key == "append")
                {
                    out["append"] = boolean(v, sub);
                }
                else if (key == "defer")
                {
                    out["defer"] = boolean(v, sub);
                }
                else if (key == "source")
                {
                    has_source = true;
                    ignore(sub, "files are not downloaded");
                }
                else
                {
                    ignore(sub, "no equivalent in first-run setup");
                }
            }
            if (!out.contains("path"))
            {
                fail(f, path + "/path", "missing: the path of the file to write");
            }
            if (!content && has_source)
            {
                ignore(path, "only a source to download, no content");
                continue;
            }
            set_content(out, content, encoding, path);
            doc["files"].push_back(std::move(out));
        }
    }

    // cloud-init's modes: an integer as YAML 1.1 reads it (0644 octal, 420 decimal) or an octal
    // string.
    [[nodiscard]] std::string permissions(const YAML::Node& v, const std::string& path) const
    {
        auto text = scalar(v, path);
        int base = 8;
        if (text.starts_with("0o") || text.starts_with("0O"))
        {
            text.erase(0, 2);
        }
        else if (v.Tag() != "!" && !text.starts_with('0'))
        {
            base = 10;
        }
        try
        {
            std::size_t used = 0;
            const auto mode = std::stoul(text, &used, base);
            if (used == text.size() && mode <= 07777)
            {
                return fmt::format("{:04o}", mode);
            }
        }
        catch (const std::exception&)
        {
        }
        fail(v, path, "is not a file mode such as '0644'");
    }

    void set_content(
        json& out,
        const std::optional<YAML::Node>& content,
        const std::string& encoding,
        const std::string& path)
    {
        const YAML::Node node = content.value_or(YAML::Node());
        std::string text = node.IsNull() ? std::string() : scalar(node, path + "/content");
        const bool binary_tag = node.Tag() == "tag:yaml.org,2002:binary";
        const bool b64 = binary_tag || encoding == "b64" || encoding == "base64"
                         || encoding == "gz+b64" || encoding == "gz+base64"
                         || encoding == "gzip+b64" || encoding == "gzip+base64";
        const bool gz = encoding.starts_with("gz");
        if (!encoding.empty() && !b64 && !gz && encoding != "text/plain")
        {
            fail(
                node,
                path + "/encoding",
                fmt::format("\"{}\" is not b64, gzip, gz+b64 or text/plain", encoding));
        }
        if (!b64 && !gz)
        {
            out["content"] = std::move(text);
            return;
        }
        if (b64)
        {
            auto bytes = detail::decode_base64(text);
            if (!bytes)
            {
                fail(node, path + "/content", "is not base64 text");
            }
            text = std::move(*bytes);
        }
        if (gz)
        {
            auto plain = gunzip(text);
            if (!plain)
            {
                fail(node, path + "/content", "is not gzip data (or larger than 16 MiB)");
            }
            text = std::move(*plain);
        }
        out["content_base64"] = detail::encode_base64(text);
    }

    void packages(json& doc, const YAML::Node& value)
    {
        if (!value.IsSequence())
        {
            fail(value, "packages", "expected a list of packages");
        }
        for (std::size_t i = 0; i < value.size(); ++i)
        {
            const YAML::Node& p = value[i];
            const auto path = fmt::format("packages/{}", i);
            if (p.IsScalar())
            {
                doc["packages"].push_back(p.Scalar());
            }
            else if (p.IsSequence() && p.size() >= 1)
            {
                doc["packages"].push_back(scalar(p[0], path + "/0"));
                if (p.size() > 1)
                {
                    ignore(
                        fmt::format("{} ({}={})", path, p[0].Scalar(), scalar(p[1], path + "/1")),
                        "the version pin; the repository's version is installed");
                }
            }
            else if (p.IsMap())
            {
                for (const auto& item : p)
                {
                    const auto manager = item.first.as<std::string>();
                    const auto sub = join_path(path, manager);
                    const bool ours =
                        (manager == "apt" && m_target.family == Family::debian)
                        || ((manager == "yum" || manager == "dnf" || manager == "tdnf")
                            && m_target.family == Family::rpm);
                    if (!ours)
                    {
                        ignore(sub, "not this distribution's package manager");
                        continue;
                    }
                    for (const auto& name : string_list(item.second, sub))
                    {
                        doc["packages"].push_back(name);
                    }
                }
            }
            else
            {
                fail(p, path, "expected a package name");
            }
        }
    }

    void runcmd(json& doc, const YAML::Node& value)
    {
        if (!value.IsSequence())
        {
            fail(value, "runcmd", "expected a list of commands");
        }
        for (std::size_t i = 0; i < value.size(); ++i)
        {
            const YAML::Node& c = value[i];
            const auto path = fmt::format("runcmd/{}", i);
            if (c.IsNull())
            {
                continue;
            }
            if (c.IsScalar())
            {
                doc["run"].push_back(c.Scalar());
                continue;
            }
            if (!c.IsSequence())
            {
                fail(c, path, "expected a command line or a list of arguments");
            }
            std::vector<std::string> words;
            for (std::size_t j = 0; j < c.size(); ++j)
            {
                words.push_back(shell_quote(scalar(c[j], fmt::format("{}/{}", path, j))));
            }
            doc["run"].push_back(fmt::format("{}", fmt::join(words, " ")));
        }
    }

    void ca_certs(json& doc, const std::string& key, const YAML::Node& value)
    {
        if (!value.IsMap())
        {
            fail(value, key, "expected a mapping with trusted");
        }
        for (const auto& item : value)
        {
            const auto sub = join_path(key, item.first.as<std::string>());
            const auto name = item.first.as<std::string>();
            if (name == "trusted")
            {
                const auto pems = item.second.IsScalar() ? std::vector{item.second.Scalar()}
                                                         : string_list(item.second, sub);
                for (const auto& pem : pems)
                {
                    const auto n =
                        doc.contains("ca_certificates") ? doc["ca_certificates"].size() : 0;
                    doc["ca_certificates"].push_back(
                        {{"name", fmt::format("cloud-init-{}", n + 1)}, {"pem", pem}});
                }
            }
            else if (name == "remove_defaults" || name == "remove-defaults")
            {
                if (boolean(item.second, sub))
                {
                    ignore(sub, "the image's trusted CA certificates are kept");
                }
            }
            else
            {
                ignore(sub, "no equivalent in first-run setup");
            }
        }
    }

    void apt(json& doc, const YAML::Node& value)
    {
        if (m_target.family != Family::debian)
        {
            ignore("apt", "this distribution does not use apt; see yum_repos");
            return;
        }
        if (!value.IsMap())
        {
            fail(value, "apt", "expected a mapping");
        }
        for (const auto& item : value)
        {
            const auto key = item.first.as<std::string>();
            if (key != "sources")
            {
                ignore(join_path("apt", key), "no equivalent in first-run setup");
                continue;
            }
            if (!item.second.IsMap())
            {
                fail(item.second, "apt/sources", "expected a mapping of named sources");
            }
            for (const auto& source : item.second)
            {
                apt_source(doc, source.first.as<std::string>(), source.second);
            }
        }
    }

    void apt_source(json& doc, const std::string& id, const YAML::Node& s)
    {
        const auto path = fmt::format("apt/sources/{}", id);
        if (!s.IsMap())
        {
            fail(s, path, "expected a mapping with source");
        }
        const auto name = file_stem(id);
        std::string line;
        std::string key_file;
        for (const auto& item : s)
        {
            const auto key = item.first.as<std::string>();
            const auto sub = join_path(path, key);
            if (key == "source")
            {
                line = scalar(item.second, sub);
            }
            else if (key == "key")
            {
                key_file = fmt::format("/etc/apt/keyrings/cloud-init-{}.asc", name);
                doc["files"].push_back(
                    {{"path", key_file},
                     {"content", scalar(item.second, sub)},
                     {"permissions", "0644"}});
            }
            else if (key == "keyid" || key == "keyserver")
            {
                ignore(sub, "keys are not fetched from a key server; give the key itself");
            }
            else if (key != "filename")
            {
                ignore(sub, "no equivalent in first-run setup");
            }
        }
        if (line.empty())
        {
            if (key_file.empty())
            {
                ignore(path, "no source line");
            }
            return;
        }
        if (line.starts_with("ppa:"))
        {
            ignore(path, "PPAs are Ubuntu's");
            return;
        }
        if (const auto pos = line.find("$RELEASE"); pos != std::string::npos)
        {
            if (m_target.release_codename.empty())
            {
                ignore(path, "$RELEASE: this distribution has no release code name");
                return;
            }
            line.replace(pos, 8, m_target.release_codename);
        }
        if (const auto pos = line.find("$KEY_FILE"); pos != std::string::npos && !key_file.empty())
        {
            line.replace(pos, 9, key_file);
        }
        if (line.find('$') != std::string::npos)
        {
            ignore(path, "the source line uses a cloud-init variable other than $RELEASE");
            return;
        }
        std::vector<std::string> words;
        for (std::string_view rest = line; !rest.empty();)
        {
            rest = trim(rest);
            auto end = rest.find(rest.starts_with('[') ? ']' : ' ');
            if (end != std::string_view::npos && rest.starts_with('['))
            {
                ++end; // the options' closing bracket belongs to them
            }
            words.emplace_back(rest.substr(0, end));
            rest = end == std::string_view::npos || end > rest.size() ? std::string_view()
                                                                      : rest.substr(end);
        }
        if (words.size() < 3 || words[0] != "deb")
        {
            ignore(
                path,
                words.empty() || words[0] != "deb-src" ? "not a \"deb URL SUITE COMPONENTS\" line"
                                                       : "deb-src lines are not added");
            return;
        }
        std::size_t at = 1;
        std::string signed_by = key_file;
        if (words[1].starts_with('['))
        {
            const std::string_view options =
                std::string_view(words[1]).substr(1, words[1].size() - 2);
            if (const auto pos = options.find("signed-by="); pos != std::string_view::npos)
            {
                const auto rest = options.substr(pos + 10);
                signed_by = std::string(rest.substr(0, rest.find_first_of(" ,")));
            }
            ++at;
        }
        if (words.size() < at + 2)
        {
            ignore(path, "not a \"deb URL SUITE COMPONENTS\" line");
            return;
        }
        json repo{{"name", name}, {"url", words[at]}, {"suite", words[at + 1]}};
        if (words.size() > at + 2)
        {
            repo["components"] =
                std::vector(words.begin() + static_cast<std::ptrdiff_t>(at + 2), words.end());
        }
        if (!signed_by.empty())
        {
            repo["gpg_key_file"] = signed_by;
        }
        doc["repositories"].push_back(std::move(repo));
    }

    void yum_repos(json& doc, const YAML::Node& value)
    {
        if (m_target.family != Family::rpm)
        {
            ignore("yum_repos", "this distribution does not use yum repositories; see apt");
            return;
        }
        if (!value.IsMap())
        {
            fail(value, "yum_repos", "expected a mapping of repositories");
        }
        for (const auto& item : value)
        {
            const auto id = item.first.as<std::string>();
            const auto path = fmt::format("yum_repos/{}", id);
            const YAML::Node& r = item.second;
            if (!r.IsMap())
            {
                fail(r, path, "expected a mapping with baseurl");
            }
            json repo{{"name", file_stem(id)}};
            bool enabled = true;
            for (const auto& field : r)
            {
                const auto key = field.first.as<std::string>();
                const auto sub = join_path(path, key);
                if (key == "baseurl")
                {
                    auto urls = string_list(field.second, sub);
                    if (!urls.empty())
                    {
                        repo["url"] = urls.front();
                    }
                }
                else if (key == "enabled")
                {
                    enabled = field.second.Scalar() == "1"
                              || (field.second.Scalar() != "0" && boolean(field.second, sub));
                }
                else if (key == "gpgkey")
                {
                    const auto url = scalar(field.second, sub);
                    if (url.starts_with("file:///"))
                    {
                        repo["gpg_key_file"] = url.substr(7);
                    }
                    else
                    {
                        ignore(sub, "only file:/// keys are used; the system's keys check it");
                    }
                }
                else if (key == "name" || key == "gpgcheck")
                {
                    // The repository's title; signatures are always checked.
                }
                else
                {
                    ignore(sub, "no equivalent in first-run setup");
                }
            }
            if (!enabled)
            {
                ignore(path, "enabled is false");
            }
            else if (!repo.contains("url"))
            {
                ignore(path, "no baseurl (mirrorlist and metalink are not used)");
            }
            else
            {
                doc["repositories"].push_back(std::move(repo));
            }
        }
    }

    std::string m_origin;
    const CloudConfigTarget& m_target;
    std::vector<std::string> m_ignored;
};

std::string mark_of(const YAML::Exception& e)
{
    return e.mark.is_null()
               ? std::string()
               : fmt::format("line {}, column {}: ", e.mark.line + 1, e.mark.column + 1);
}

} // namespace

std::vector<std::string> cloud_init_candidates(std::string_view instance, const OsRelease& os)
{
    std::vector<std::string> out;
    if (!instance.empty())
    {
        out.push_back(fmt::format("{}.user-data", instance));
    }
    const auto& version = os.version_id.empty() ? os.version_codename : os.version_id;
    if (!os.id.empty() && !version.empty())
    {
        out.push_back(fmt::format("{}-{}.user-data", os.id, version));
    }
    if (!os.id.empty())
    {
        out.push_back(fmt::format("{}-all.user-data", os.id));
    }
    out.emplace_back("default.user-data");
    return out;
}

std::optional<fs::path>
find_cloud_init_user_data(const fs::path& profile, std::string_view instance, const OsRelease& os)
{
    const fs::path dir = profile / ".cloud-init";
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
    {
        return std::nullopt;
    }
    std::map<std::string, fs::path> present; // lower-cased name -> path
    for (const auto& entry : fs::directory_iterator(dir, ec))
    {
        if (entry.is_regular_file(ec))
        {
            present.emplace(ascii_lower(entry.path().filename().string()), entry.path());
        }
    }
    for (const auto& name : cloud_init_candidates(instance, os))
    {
        if (const auto it = present.find(ascii_lower(name)); it != present.end())
        {
            return it->second;
        }
    }
    return std::nullopt;
}

CloudConfigTarget guest_cloud_config_target(const OsRelease& os)
{
    CloudConfigTarget target;
    target.release_codename = os.version_codename;
    try
    {
        target.family = detect_family(os);
    }
    catch (const UserError&)
    {
        target.family = Family::rpm; // setup itself stops on it later, with the reason
    }
    target.group_exists = [db = UserDatabase::load()](std::string_view group)
    { return db.has_group(group); };
    return target;
}

Layer translate_cloud_config(
    std::string origin, std::string_view text, const CloudConfigTarget& target)
{
    Layer layer;
    layer.kind = LayerKind::cloud_init;
    layer.origin = std::move(origin);
    layer.document = json{{"version", kAnswersVersion}};
    if (text.starts_with("\xEF\xBB\xBF"))
    {
        text.remove_prefix(3); // a byte-order mark, as Windows editors write
    }
    if (trim(text).empty())
    {
        return layer;
    }
    if (const auto kind = other_user_data_kind(text); !kind.empty())
    {
        layer.ignored.push_back(
            fmt::format("{}: not used; first-run setup reads only #cloud-config user-data", kind));
        return layer;
    }
    YAML::Node root;
    try
    {
        root = YAML::Load(std::string(text));
    }
    catch (const YAML::Exception& e)
    {
        throw AnswersError(
            layer.origin, "", fmt::format("not valid YAML: {}{}", mark_of(e), e.msg));
    }
    Translator translator(layer.origin, target);
    try
    {
        layer.document = translator.translate(root);
    }
    catch (const YAML::Exception& e)
    {
        throw AnswersError(layer.origin, "", fmt::format("{}{}", mark_of(e), e.msg));
    }
    layer.ignored = translator.take_ignored();
    return layer;
}

std::string preview_cloud_init(const fs::path& file, bool json_output)
{
    const auto os = OsRelease::load();
    std::vector<Layer> layers;
    layers.push_back(translate_cloud_config(
        file.string(), read_file(file, kMaxUserData), guest_cloud_config_target(os)));
    const auto merged = merge_layers(std::move(layers));
    (void)parse_answers(merged);
    const auto values = effective_values(merged);
    const auto& ignored = merged.layers.front().ignored;
    if (json_output)
    {
        json doc{{"origin", file.string()}, {"values", json::array()}, {"ignored", ignored}};
        for (const auto& v : values)
        {
            doc["values"].push_back({{"key", v.key}, {"value", v.value}});
        }
        return doc.dump(2) + "\n";
    }
    std::string out = fmt::format(
        "{}: {} answer value(s) for {}, {} ignored\n",
        file.string(),
        values.size(),
        os.display_name(),
        ignored.size());
    for (const auto& v : values)
    {
        out += fmt::format("  {} = {}\n", v.key, v.value.dump());
    }
    for (const auto& note : ignored)
    {
        out += fmt::format("  ignored: {}\n", note);
    }
    return out;
}

std::optional<Layer> cloud_init_layer(
    const fs::path& profile,
    std::string_view instance,
    const OsRelease& os,
    const CloudConfigTarget& target)
{
    const auto file = find_cloud_init_user_data(profile, instance, os);
    logger("oobe")->debug(
        "looking for cloud-init user-data in {}: {}",
        (profile / ".cloud-init").string(),
        file ? file->string() : std::string("none"));
    if (!file)
    {
        return std::nullopt;
    }
    return translate_cloud_config(file->string(), read_file(*file, kMaxUserData), target);
}

} // namespace azl::oobe
