#include "base64.hpp"
#include "text.hpp"

#include <azl/common/fs.hpp>
#include <azl/common/openssl_error.hpp>
#include <azl/common/text.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/certs.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <initializer_list>
#include <span>

namespace azl::oobe
{

using detail::all_chars;
using detail::no_control_chars;
using nlohmann::json;

namespace
{

// Who to name in an error: one file, or the layer that set the failing key.
struct Origin
{
    std::string_view file;
    const MergedAnswers* merged = nullptr;

    [[nodiscard]] std::string at(std::string_view path) const
    {
        return merged != nullptr ? merged->origin_of(path) : std::string(file);
    }
};

// Reads one JSON object, tracking the JSON pointer for error messages.
class Reader
{
public:
    Reader(const json& value, std::string path, Origin origin)
        : m_value(value)
        , m_path(std::move(path))
        , m_origin(origin)
    {
    }

    [[noreturn]] void fail(std::string_view problem) const
    {
        throw AnswersError(m_origin.at(m_path), m_path.empty() ? "/" : m_path, problem);
    }

    [[noreturn]] void fail_at(std::string_view key, std::string_view problem) const
    {
        const std::string path = child_path(key);
        throw AnswersError(m_origin.at(path), path, problem);
    }

    [[nodiscard]] std::string child_path(std::string_view key) const
    {
        return fmt::format("{}/{}", m_path, key);
    }

    // Requires an object whose keys are all in `known`.
    void expect_object(std::initializer_list<std::string_view> known) const
    {
        if (!m_value.is_object())
        {
            fail(fmt::format("expected an object, found {}", m_value.type_name()));
        }
        for (const auto& [key, _] : m_value.items())
        {
            if (std::find(known.begin(), known.end(), key) == known.end())
            {
                fail_at(key, "unknown key (see oobe/schema/answers.schema.json)");
            }
        }
    }

    [[nodiscard]] bool has(std::string_view key) const
    {
        return m_value.contains(key);
    }

    [[nodiscard]] Reader at(std::string_view key) const
    {
        return {m_value.at(key), child_path(key), m_origin};
    }

    [[nodiscard]] const json& value() const noexcept
    {
        return m_value;
    }

    [[nodiscard]] const std::string& path() const noexcept
    {
        return m_path;
    }

    [[nodiscard]] std::string string() const
    {
        if (!m_value.is_string())
        {
            fail(fmt::format("expected a string, found {}", m_value.type_name()));
        }
        return m_value.get<std::string>();
    }

    [[nodiscard]] bool boolean() const
    {
        if (!m_value.is_boolean())
        {
            fail(fmt::format("expected true or false, found {}", m_value.type_name()));
        }
        return m_value.get<bool>();
    }

    [[nodiscard]] std::uint32_t uint(std::uint32_t min, std::uint32_t max) const
    {
        if (!m_value.is_number_integer())
        {
            fail(fmt::format("expected an integer, found {}", m_value.type_name()));
        }
        const auto v = m_value.get<std::int64_t>();
        if (v < min || v > max)
        {
            fail(fmt::format("{} is out of range {}..{}", v, min, max));
        }
        return static_cast<std::uint32_t>(v);
    }

    [[nodiscard]] std::vector<std::string> strings() const
    {
        if (!m_value.is_array())
        {
            fail(fmt::format("expected an array of strings, found {}", m_value.type_name()));
        }
        std::vector<std::string> out;
        for (std::size_t i = 0; i < m_value.size(); ++i)
        {
            out.push_back(Reader(m_value[i], fmt::format("{}/{}", m_path, i), m_origin).string());
        }
        return out;
    }

    [[nodiscard]] std::vector<Reader> array() const
    {
        if (!m_value.is_array())
        {
            fail(fmt::format("expected an array, found {}", m_value.type_name()));
        }
        std::vector<Reader> out;
        for (std::size_t i = 0; i < m_value.size(); ++i)
        {
            out.emplace_back(m_value[i], fmt::format("{}/{}", m_path, i), m_origin);
        }
        return out;
    }

private:
    const json& m_value;
    std::string m_path;
    Origin m_origin;
};

// RFC 1123 host name: labels of letters, digits and inner hyphens, at most 63 characters each.
bool valid_hostname(std::string_view name)
{
    if (name.empty() || name.size() > 253)
    {
        return false;
    }
    std::size_t start = 0;
    while (start <= name.size())
    {
        auto end = name.find('.', start);
        if (end == std::string_view::npos)
        {
            end = name.size();
        }
        const auto label = name.substr(start, end - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-'
            || !all_chars(label, "-"))
        {
            return false;
        }
        start = end + 1;
    }
    return true;
}

// ll_CC.codeset@modifier, or C, C.UTF-8, POSIX.
bool valid_locale(std::string_view name)
{
    if (name == "C" || name == "POSIX" || name == "C.UTF-8" || name == "C.utf8")
    {
        return true;
    }
    const auto lang_end = name.find_first_of("_.@");
    const auto lang = name.substr(0, lang_end);
    return lang.size() >= 2 && lang.size() <= 3
           && std::all_of(lang.begin(), lang.end(), [](char c) { return c >= 'a' && c <= 'z'; })
           && all_chars(name, "_.@-");
}

// Area/Location names of the tz database: no "..", no leading '/', ordinary characters.
bool valid_timezone(std::string_view name)
{
    return !name.empty() && name.front() != '/' && name.find("..") == std::string_view::npos
           && all_chars(name, "/_+-");
}

bool valid_proxy_url(std::string_view url)
{
    return (url.starts_with("http://") || url.starts_with("https://")) && url.size() > 8
           && no_control_chars(url) && url.find_first_of(" \"'\\") == std::string_view::npos;
}

bool valid_repo_url(std::string_view url)
{
    return (url.starts_with("http://") || url.starts_with("https://")
            || url.starts_with("file:///"))
           && no_control_chars(url) && url.find_first_of(" \"'\\") == std::string_view::npos;
}

bool valid_package_name(std::string_view name)
{
    return !name.empty() && std::isalnum(static_cast<unsigned char>(name.front())) != 0
           && all_chars(name, "+-._:");
}

bool valid_file_stem(std::string_view name)
{
    return !name.empty() && name.size() <= 64 && name.front() != '.' && all_chars(name, "._-");
}

bool valid_ssh_key(std::string_view key)
{
    static constexpr std::array kTypes = {
        "ssh-ed25519 ",
        "ssh-rsa ",
        "ecdsa-sha2-nistp256 ",
        "ecdsa-sha2-nistp384 ",
        "ecdsa-sha2-nistp521 ",
        "sk-ssh-ed25519@openssh.com ",
        "sk-ecdsa-sha2-nistp256@openssh.com ",
    };
    if (!no_control_chars(key))
    {
        return false;
    }
    // Options before the key type (from="...",no-pty ssh-ed25519 ...) are allowed too.
    return std::any_of(
        kTypes.begin(),
        kTypes.end(),
        [key](std::string_view type) {
            return key.starts_with(type)
                   || key.find(" " + std::string(type)) != std::string_view::npos;
        });
}

SudoMode parse_sudo(const Reader& r)
{
    const auto v = r.string();
    if (v == "password")
    {
        return SudoMode::password;
    }
    if (v == "nopasswd")
    {
        return SudoMode::nopasswd;
    }
    if (v == "none")
    {
        return SudoMode::none;
    }
    r.fail(fmt::format("\"{}\" is not one of password, nopasswd, none", v));
}

UserAnswers parse_user(const Reader& r)
{
    r.expect_object(
        {"name",
         "uid",
         "gecos",
         "shell",
         "groups",
         "sudo",
         "password",
         "password_hash",
         "ssh_authorized_keys"});
    UserAnswers u;
    if (!r.has("name"))
    {
        r.fail_at("name", "missing: the first user's name is required");
    }
    u.name = r.at("name").string();
    if (const auto problem = username_problem(u.name); !problem.empty())
    {
        r.fail_at("name", problem);
    }
    if (r.has("uid"))
    {
        u.uid = r.at("uid").uint(1000, 60000);
    }
    if (r.has("gecos"))
    {
        u.gecos = r.at("gecos").string();
        if (!no_control_chars(u.gecos) || u.gecos.find(':') != std::string::npos)
        {
            r.fail_at("gecos", "must not contain ':' or control characters");
        }
    }
    if (r.has("shell"))
    {
        u.shell = r.at("shell").string();
        if (!u.shell.starts_with('/') || !no_control_chars(u.shell)
            || u.shell.find(':') != std::string::npos)
        {
            r.fail_at("shell", "must be an absolute path such as /bin/bash");
        }
    }
    if (r.has("groups"))
    {
        u.groups = r.at("groups").strings();
        for (std::size_t i = 0; i < u.groups.size(); ++i)
        {
            if (u.groups[i].empty() || !all_chars(u.groups[i], "_-."))
            {
                r.fail_at(fmt::format("groups/{}", i), "is not a valid group name");
            }
        }
    }
    if (r.has("sudo"))
    {
        u.sudo = parse_sudo(r.at("sudo"));
    }
    if (r.has("password") && r.has("password_hash"))
    {
        r.fail_at("password", "give either password or password_hash, not both");
    }
    if (r.has("password_hash"))
    {
        u.password_hash = r.at("password_hash").string();
        if (!is_crypt_hash(*u.password_hash))
        {
            // The value is a secret: never repeated in the message.
            r.fail_at(
                "password_hash",
                "is not a crypt(3) hash ($y$..., $6$...); make one with `mkpasswd -m yescrypt`");
        }
    }
    if (r.has("password"))
    {
        u.password = r.at("password").string();
        if (u.password->empty())
        {
            r.fail_at("password", "is empty");
        }
    }
    if (r.has("ssh_authorized_keys"))
    {
        u.ssh_authorized_keys = r.at("ssh_authorized_keys").strings();
        for (std::size_t i = 0; i < u.ssh_authorized_keys.size(); ++i)
        {
            if (!valid_ssh_key(u.ssh_authorized_keys[i]))
            {
                r.fail_at(
                    fmt::format("ssh_authorized_keys/{}", i),
                    "is not an OpenSSH public key line (ssh-ed25519 AAAA... comment)");
            }
        }
    }
    return u;
}

ProxyAnswers parse_proxy(const Reader& r)
{
    r.expect_object({"http", "https", "no_proxy"});
    ProxyAnswers p;
    for (const auto* key : {"http", "https"})
    {
        if (r.has(key))
        {
            auto url = r.at(key).string();
            if (!valid_proxy_url(url))
            {
                r.fail_at(key, "must be an http:// or https:// URL without spaces or quotes");
            }
            (std::string_view(key) == "http" ? p.http : p.https) = std::move(url);
        }
    }
    if (r.has("no_proxy"))
    {
        p.no_proxy = r.at("no_proxy").strings();
        for (std::size_t i = 0; i < p.no_proxy.size(); ++i)
        {
            if (p.no_proxy[i].empty() || !all_chars(p.no_proxy[i], ".-_*:/[]"))
            {
                r.fail_at(fmt::format("no_proxy/{}", i), "is not a host, domain or address");
            }
        }
    }
    if (p.http.empty() && p.https.empty())
    {
        r.fail("needs http or https");
    }
    return p;
}

CaCertificate parse_ca(const Reader& r)
{
    r.expect_object({"name", "pem", "file"});
    CaCertificate ca;
    if (!r.has("name"))
    {
        r.fail_at("name", "missing: a file name for the certificate, e.g. \"corp-root\"");
    }
    ca.name = r.at("name").string();
    if (!valid_file_stem(ca.name))
    {
        r.fail_at("name", "may contain only letters, digits, '.', '_' and '-'");
    }
    if (r.has("pem") == r.has("file"))
    {
        r.fail("needs exactly one of pem (inline PEM text) and file (a path in the guest)");
    }
    std::string_view key = "pem";
    std::string origin = "inline PEM";
    if (r.has("pem"))
    {
        ca.pem = r.at("pem").string();
    }
    else
    {
        key = "file";
        ca.file = r.at("file").string();
        if (!ca.file.starts_with('/'))
        {
            r.fail_at("file", "must be an absolute path inside the guest (e.g. /mnt/c/...)");
        }
        try
        {
            ca.pem = read_file(ca.file, 4U << 20U);
        }
        catch (const UserError& e)
        {
            r.fail_at("file", e.what());
        }
        origin = ca.file;
    }
    try
    {
        validate_ca_bundle(ca.pem, origin, std::time(nullptr));
    }
    catch (const UserError& e)
    {
        std::string_view problem = e.what();
        if (key == "pem" && problem.starts_with(origin + ": "))
        {
            problem.remove_prefix(origin.size() + 2); // the JSON path says where it is
        }
        r.fail_at(key, problem);
    }
    return ca;
}

Repository parse_repo(const Reader& r)
{
    r.expect_object({"name", "url", "suite", "components", "gpg_key_file"});
    Repository repo;
    if (!r.has("name") || !r.has("url"))
    {
        r.fail_at(r.has("name") ? "url" : "name", "missing");
    }
    repo.name = r.at("name").string();
    if (!valid_file_stem(repo.name))
    {
        r.fail_at("name", "may contain only letters, digits, '.', '_' and '-'");
    }
    repo.url = r.at("url").string();
    if (!valid_repo_url(repo.url))
    {
        r.fail_at("url", "must be an http://, https:// or file:/// URL without spaces or quotes");
    }
    if (r.has("suite"))
    {
        repo.suite = r.at("suite").string();
        if (repo.suite.empty() || !all_chars(repo.suite, "-_./"))
        {
            r.fail_at("suite", "is not a suite name such as bookworm");
        }
    }
    if (r.has("components"))
    {
        repo.components = r.at("components").strings();
        for (std::size_t i = 0; i < repo.components.size(); ++i)
        {
            if (repo.components[i].empty() || !all_chars(repo.components[i], "-_./"))
            {
                r.fail_at(fmt::format("components/{}", i), "is not a component name");
            }
        }
    }
    if (r.has("gpg_key_file"))
    {
        repo.gpg_key_file = r.at("gpg_key_file").string();
        if (!repo.gpg_key_file.starts_with('/') || !no_control_chars(repo.gpg_key_file)
            || repo.gpg_key_file.find_first_of(" ]") != std::string::npos)
        {
            r.fail_at("gpg_key_file", "must be an absolute path without spaces");
        }
    }
    return repo;
}

// An absolute path without "..", control characters or a trailing '/'.
bool valid_file_path(std::string_view path)
{
    return path.size() > 1 && path.starts_with('/') && !path.ends_with('/')
           && no_control_chars(path) && path.find("/../") == std::string_view::npos
           && !path.ends_with("/..") && path.find("//") == std::string_view::npos;
}

// A user or group name, or a number.
bool valid_owner_part(std::string_view name)
{
    return !name.empty() && name.size() <= 32 && all_chars(name, "_-.");
}

std::string decode_base64(const Reader& r)
{
    auto bytes = detail::decode_base64(r.string());
    if (!bytes)
    {
        r.fail("is not base64 text");
    }
    return std::move(*bytes);
}

FileAnswers parse_file(const Reader& r)
{
    r.expect_object(
        {"path", "content", "content_base64", "permissions", "owner", "append", "defer"});
    FileAnswers f;
    if (!r.has("path"))
    {
        r.fail_at("path", "missing: the absolute path of the file to write");
    }
    f.path = r.at("path").string();
    if (!valid_file_path(f.path))
    {
        r.fail_at("path", "must be an absolute path without '..' or control characters");
    }
    if (r.has("content") && r.has("content_base64"))
    {
        r.fail_at("content", "give either content or content_base64, not both");
    }
    if (r.has("content"))
    {
        f.content = r.at("content").string();
    }
    if (r.has("content_base64"))
    {
        f.content = decode_base64(r.at("content_base64"));
    }
    if (r.has("permissions"))
    {
        const auto text = r.at("permissions").string();
        if (text.empty() || text.size() > 5
            || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; }))
        {
            r.fail_at("permissions", "must be an octal mode such as \"0644\"");
        }
        f.mode = static_cast<unsigned>(std::stoul(text, nullptr, 8));
        if (f.mode > 07777)
        {
            r.fail_at("permissions", "must be an octal mode such as \"0644\"");
        }
    }
    if (r.has("owner"))
    {
        const auto owner = r.at("owner").string();
        const auto colon = owner.find(':');
        f.owner = owner.substr(0, colon);
        f.group = colon == std::string::npos ? f.owner : owner.substr(colon + 1);
        if (!valid_owner_part(f.owner) || !valid_owner_part(f.group))
        {
            r.fail_at("owner", "must be USER or USER:GROUP");
        }
    }
    if (r.has("append"))
    {
        f.append = r.at("append").boolean();
    }
    if (r.has("defer"))
    {
        f.defer = r.at("defer").boolean();
    }
    return f;
}

BridgeAnswers parse_bridge(const Reader& r)
{
    r.expect_object(
        {"enabled", "idle_timeout", "host_az", "tenant", "ssh_agent", "gpg_agent", "gcm"});
    BridgeAnswers b;
    if (r.has("enabled"))
    {
        b.enabled = r.at("enabled").boolean();
    }
    if (r.has("ssh_agent"))
    {
        b.ssh_agent = r.at("ssh_agent").boolean();
    }
    if (r.has("gpg_agent"))
    {
        b.gpg_agent = r.at("gpg_agent").boolean();
    }
    if (r.has("gcm"))
    {
        b.gcm = r.at("gcm").boolean();
    }
    if (r.has("idle_timeout"))
    {
        b.idle_timeout = r.at("idle_timeout").uint(0, 86400 * 7);
    }
    if (r.has("host_az"))
    {
        b.host_az = r.at("host_az").string();
        if (!b.host_az.starts_with('/') || !no_control_chars(b.host_az))
        {
            r.fail_at("host_az", "must be the guest path of the host's az (e.g. /mnt/c/...)");
        }
    }
    if (r.has("tenant"))
    {
        b.tenant = r.at("tenant").string();
        if (b.tenant.empty() || !all_chars(b.tenant, "-._"))
        {
            r.fail_at("tenant", "must be a tenant id or domain");
        }
    }
    return b;
}

HostSyncAnswers parse_host_sync(const Reader& r)
{
    r.expect_object({"certificates", "proxy"});
    HostSyncAnswers h;
    if (r.has("certificates"))
    {
        h.certificates = r.at("certificates").boolean();
    }
    if (r.has("proxy"))
    {
        h.proxy = r.at("proxy").boolean();
    }
    return h;
}

void parse_sections(const Reader& root, Answers& a)
{
    if (root.has("user"))
    {
        a.user = parse_user(root.at("user"));
    }
    if (root.has("hostname"))
    {
        a.hostname = root.at("hostname").string();
        if (!valid_hostname(*a.hostname))
        {
            root.fail_at("hostname", "is not a valid host name (letters, digits, '-', '.')");
        }
    }
    if (root.has("locale"))
    {
        a.locale = root.at("locale").string();
        if (!valid_locale(*a.locale))
        {
            root.fail_at("locale", "is not a locale name such as en_US.UTF-8");
        }
    }
    if (root.has("timezone"))
    {
        a.timezone = root.at("timezone").string();
        if (!valid_timezone(*a.timezone))
        {
            root.fail_at("timezone", "is not a time zone name such as Europe/Paris");
        }
    }
    if (root.has("proxy"))
    {
        a.proxy = parse_proxy(root.at("proxy"));
    }
    if (root.has("ca_certificates"))
    {
        for (const auto& item : root.at("ca_certificates").array())
        {
            a.ca_certificates.push_back(parse_ca(item));
        }
    }
    if (root.has("repositories"))
    {
        for (const auto& item : root.at("repositories").array())
        {
            a.repositories.push_back(parse_repo(item));
        }
    }
    if (root.has("packages"))
    {
        a.packages = root.at("packages").strings();
        for (std::size_t i = 0; i < a.packages.size(); ++i)
        {
            if (!valid_package_name(a.packages[i]))
            {
                root.fail_at(fmt::format("packages/{}", i), "is not a package name");
            }
        }
    }
    if (root.has("package_update"))
    {
        a.package_update = root.at("package_update").boolean();
    }
    if (root.has("package_upgrade"))
    {
        a.package_upgrade = root.at("package_upgrade").boolean();
    }
    if (root.has("files"))
    {
        for (const auto& item : root.at("files").array())
        {
            a.files.push_back(parse_file(item));
        }
    }
    if (root.has("systemd"))
    {
        a.systemd = root.at("systemd").boolean();
    }
    if (root.has("bridge"))
    {
        a.bridge = parse_bridge(root.at("bridge"));
    }
    if (root.has("host_sync"))
    {
        a.host_sync = parse_host_sync(root.at("host_sync"));
    }
    if (root.has("run"))
    {
        a.run = root.at("run").strings();
    }
}

json parse_json(std::string_view text, std::string_view origin)
{
    try
    {
        return json::parse(text);
    }
    catch (const json::exception& e)
    {
        // parse_error (with line and column) for syntax; out_of_range for numbers too large to
        // hold.
        throw AnswersError(origin, "", fmt::format("not valid JSON: {}", e.what()));
    }
}

} // namespace

AnswersError::AnswersError(std::string_view origin, std::string_view path, std::string_view problem)
    : UserError(
        path.empty() ? fmt::format("{}: {}", origin, problem)
                     : fmt::format("{}: {}: {}", origin, path, problem),
        "fix the file and run again; `azurelinux-oobe --check --answers FILE` checks an answers "
        "file, `azurelinux-oobe cloud-init FILE` cloud-init user-data",
        ExitCode::usage)
{
}

namespace
{

constexpr std::array<std::string_view, 17> kTopLevelKeys = {
    "$schema",
    "version",
    "user",
    "hostname",
    "locale",
    "timezone",
    "proxy",
    "ca_certificates",
    "repositories",
    "packages",
    "package_update",
    "package_upgrade",
    "files",
    "systemd",
    "bridge",
    "host_sync",
    "run"};

Answers parse_document(const json& doc, Origin origin)
{
    const Reader root(doc, "", origin);
    if (!doc.is_object())
    {
        root.fail(fmt::format("expected an object, found {}", doc.type_name()));
    }
    for (const auto& [key, _] : doc.items())
    {
        if (!is_answers_key(key))
        {
            root.fail_at(key, "unknown key (see oobe/schema/answers.schema.json)");
        }
    }
    if (!root.has("version"))
    {
        root.fail_at("version", "missing: this program reads \"version\": 1");
    }
    if (root.at("version").uint(0, 1000) != kAnswersVersion)
    {
        root.fail_at("version", "unsupported: this program reads \"version\": 1");
    }
    Answers a;
    parse_sections(root, a);
    return a;
}

} // namespace

bool is_answers_key(std::string_view key)
{
    return std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), key) != kTopLevelKeys.end();
}

Answers parse_answers(std::string_view text, std::string_view origin)
{
    return parse_document(parse_json(text, origin), Origin{.file = origin});
}

Answers parse_answers(const MergedAnswers& merged)
{
    return parse_document(merged.document, Origin{.file = "answers", .merged = &merged});
}

std::string answers_digest(std::string_view text)
{
    // Canonical form (sorted keys, no spaces) without the plaintext password: the state file must
    // not carry a fast-to-guess fingerprint of it.
    json doc = json::parse(text, nullptr, false);
    if (doc.is_object() && doc.contains("user") && doc["user"].is_object())
    {
        doc["user"].erase("password");
    }
    const std::string canonical = doc.dump();
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(canonical.data(), canonical.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    {
        throw SystemError("hashing the answers", openssl_error_text());
    }
    return hex_encode(std::span(md).first(len));
}

} // namespace azl::oobe
