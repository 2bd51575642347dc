// The proxy in every tool's configuration.
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/ini.hpp>
#include <azl/oobe/host_proxy.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <sstream>

namespace azl::oobe
{

namespace fs = std::filesystem;

namespace
{

constexpr std::string_view kHeader = "Written by azurelinux-oobe: the proxy";

// The one URL for tools that take a single proxy: HTTPS traffic is what they mostly carry.
std::string_view trim_view(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    {
        s.remove_suffix(1);
    }
    return s;
}

std::string single_url(const ProxySettings& p)
{
    return p.https.empty() ? p.http : p.https;
}

std::string joined_no_proxy(const ProxySettings& p)
{
    return fmt::format("{}", fmt::join(merge_no_proxy(p.no_proxy), ","));
}

std::optional<std::string> current_text(const fs::path& path)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
    {
        return std::nullopt;
    }
    return read_file(path, 1U << 20U);
}

std::string sh_quote(std::string_view value)
{
    std::string out = "'";
    for (const char c : value)
    {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

std::string profile_script(const ProxySettings& p)
{
    std::string out = fmt::format("# {} for login shells.\n", kHeader);
    if (!p.http.empty())
    {
        out += fmt::format("export http_proxy={0} HTTP_PROXY={0}\n", sh_quote(p.http));
    }
    if (!p.https.empty())
    {
        out += fmt::format("export https_proxy={0} HTTPS_PROXY={0}\n", sh_quote(p.https));
    }
    out += fmt::format("export no_proxy={0} NO_PROXY={0}\n", sh_quote(joined_no_proxy(p)));
    return out;
}

// The variables of /etc/environment (pam_env's KEY=VALUE lines), upper and lower case.
std::vector<std::pair<std::string, std::string>> environment_pairs(const ProxySettings& p)
{
    std::vector<std::pair<std::string, std::string>> out;
    const auto both = [&out](std::string_view lower, std::string_view upper, const std::string& v)
    {
        out.emplace_back(lower, v);
        out.emplace_back(upper, v);
    };
    if (!p.http.empty())
    {
        both("http_proxy", "HTTP_PROXY", p.http);
    }
    if (!p.https.empty())
    {
        both("https_proxy", "HTTPS_PROXY", p.https);
    }
    both("no_proxy", "NO_PROXY", joined_no_proxy(p));
    return out;
}

// `text` without the lines setting one of `keys` (KEY=… or KEY = …), then `lines` appended.
std::string replace_key_lines(
    std::string_view text,
    const std::vector<std::string_view>& keys,
    const std::vector<std::string>& lines)
{
    std::string out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line))
    {
        std::string_view key = line;
        key = key.substr(0, key.find('='));
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t'))
        {
            key.remove_suffix(1);
        }
        if (key.starts_with("export "))
        {
            key.remove_prefix(7);
        }
        if (line.find('=') != std::string::npos
            && std::find(keys.begin(), keys.end(), key) != keys.end())
        {
            continue;
        }
        out += line + "\n";
    }
    for (const auto& l : lines)
    {
        out += l + "\n";
    }
    return out;
}

void add_edit(
    std::vector<ConfigEdit>& edits,
    const fs::path& path,
    const std::optional<std::string>& before,
    std::string after)
{
    if (before != after)
    {
        edits.push_back({path, std::move(after), false});
    }
}

// A file that only we write: its text, or its removal.
void own_file(
    std::vector<ConfigEdit>& edits, const fs::path& path, const std::optional<std::string>& want)
{
    const auto before = current_text(path);
    if (!want)
    {
        if (before)
        {
            edits.push_back({path, {}, true});
        }
        return;
    }
    add_edit(edits, path, before, *want);
}

// An INI file shared with others (gitconfig, pip.conf, tdnf.conf): one key set or erased.
void ini_key(
    std::vector<ConfigEdit>& edits,
    const fs::path& path,
    std::string_view section,
    std::string_view key,
    const std::optional<std::string>& value,
    bool create)
{
    const auto before = current_text(path);
    if (!before && (!value || !create))
    {
        return;
    }
    auto ini = IniFile::parse(before.value_or(""), path.string());
    if (value)
    {
        ini.set(section, key, *value);
    }
    else
    {
        ini.erase(section, key);
    }
    add_edit(edits, path, before, ini.str());
}

// git's config holds subsections (`[credential "https://…"]`) an INI reader refuses: only the
// `proxy` line of the plain `[http]` section is touched, every other line is kept as it is.
void gitconfig_proxy(
    std::vector<ConfigEdit>& edits, const fs::path& path, const std::optional<std::string>& url)
{
    const auto before = current_text(path);
    if (!before && !url)
    {
        return;
    }
    std::string out;
    bool in_http = false;
    bool written = false;
    std::istringstream in(before.value_or(""));
    std::string line;
    while (std::getline(in, line))
    {
        const auto t = trim_view(line);
        if (t.starts_with('['))
        {
            if (in_http && url && !written)
            {
                out += "\tproxy = " + *url + "\n";
                written = true;
            }
            in_http = t == "[http]";
        }
        else if (in_http && (t.starts_with("proxy ") || t.starts_with("proxy=")))
        {
            continue;
        }
        out += line + "\n";
    }
    if (url && !written)
    {
        out += in_http ? "\tproxy = " + *url + "\n" : "[http]\n\tproxy = " + *url + "\n";
    }
    add_edit(edits, path, before, out);
}

std::string apt_conf(const ProxySettings& p)
{
    std::string conf = fmt::format("// {}.\n", kHeader);
    if (!p.http.empty())
    {
        conf += fmt::format("Acquire::http::Proxy \"{}\";\n", p.http);
    }
    if (!p.https.empty())
    {
        conf += fmt::format("Acquire::https::Proxy \"{}\";\n", p.https);
    }
    // apt does not read no_proxy: each plain host name goes DIRECT by name.
    for (const auto& host : merge_no_proxy(p.no_proxy))
    {
        if (host.find_first_of("*/:") == std::string::npos && !host.starts_with('.'))
        {
            conf += fmt::format(
                "Acquire::http::Proxy::{0} \"DIRECT\";\nAcquire::https::Proxy::{0} \"DIRECT\";\n",
                host);
        }
    }
    return conf;
}

} // namespace

std::vector<std::string> merge_no_proxy(const std::vector<std::string>& no_proxy)
{
    std::vector<std::string> out;
    for (const auto& h : no_proxy)
    {
        if (!h.empty() && std::find(out.begin(), out.end(), h) == out.end())
        {
            out.push_back(h);
        }
    }
    for (const char* loopback : {"localhost", "127.0.0.1", "::1"})
    {
        if (std::find(out.begin(), out.end(), loopback) == out.end())
        {
            out.emplace_back(loopback);
        }
    }
    return out;
}

std::vector<ConfigEdit> proxy_config_edits(
    const FamilyFacts& facts, const std::optional<ProxySettings>& proxy, const fs::path& root)
{
    const auto under = [&root](std::string_view p) { return root / fs::path(p).relative_path(); };
    std::vector<ConfigEdit> edits;
    own_file(
        edits,
        under("/etc/profile.d/azurelinux-proxy.sh"),
        proxy ? std::optional(profile_script(*proxy)) : std::nullopt);

    // /etc/environment: pam_env's variables for every session (not only login shells).
    {
        const auto path = under("/etc/environment");
        const auto before = current_text(path);
        std::vector<std::string> lines;
        if (proxy)
        {
            for (const auto& [k, v] : environment_pairs(*proxy))
            {
                lines.push_back(fmt::format("{}=\"{}\"", k, v));
            }
        }
        if (before || proxy)
        {
            add_edit(
                edits,
                path,
                before,
                replace_key_lines(
                    before.value_or(""),
                    {"http_proxy",
                     "HTTP_PROXY",
                     "https_proxy",
                     "HTTPS_PROXY",
                     "no_proxy",
                     "NO_PROXY"},
                    lines));
        }
    }

    const std::optional<std::string> one = proxy ? std::optional(single_url(*proxy)) : std::nullopt;
    if (facts.family == Family::debian)
    {
        own_file(
            edits,
            under(facts.package_proxy_file),
            proxy ? std::optional(apt_conf(*proxy)) : std::nullopt);
    }
    else
    {
        ini_key(edits, under(facts.package_proxy_file), "main", "proxy", one, true);
        ini_key(edits, under("/etc/dnf/dnf.conf"), "main", "proxy", one, false);
    }
    gitconfig_proxy(edits, under("/etc/gitconfig"), one);
    ini_key(edits, under("/etc/pip.conf"), "global", "proxy", one, true);

    // npm's global config: key=value lines without sections.
    {
        const auto path = under("/etc/npmrc");
        const auto before = current_text(path);
        std::vector<std::string> lines;
        if (proxy)
        {
            if (!proxy->http.empty())
            {
                lines.push_back("proxy=" + proxy->http);
            }
            if (!proxy->https.empty())
            {
                lines.push_back("https-proxy=" + proxy->https);
            }
            lines.push_back("noproxy=" + joined_no_proxy(*proxy));
        }
        if (before || proxy)
        {
            auto after =
                replace_key_lines(before.value_or(""), {"proxy", "https-proxy", "noproxy"}, lines);
            if (after.empty() && before)
            {
                edits.push_back({path, {}, true});
            }
            else
            {
                add_edit(edits, path, before, std::move(after));
            }
        }
    }
    return edits;
}

std::vector<std::string> apply_config_edits(const std::vector<ConfigEdit>& edits)
{
    std::vector<std::string> changed;
    for (const auto& e : edits)
    {
        std::error_code ec;
        if (e.remove)
        {
            fs::remove(e.path, ec);
            if (ec)
            {
                throw SystemError(fmt::format("removing {}", e.path.string()), ec.message());
            }
        }
        else
        {
            fs::create_directories(e.path.parent_path(), ec);
            write_file_atomic(e.path, e.content, 0644);
        }
        changed.push_back(e.path.string());
    }
    return changed;
}

std::string redact_proxy_url(std::string_view url)
{
    const auto scheme = url.find("://");
    const auto at = url.find('@');
    if (scheme == std::string_view::npos || at == std::string_view::npos)
    {
        return std::string(url);
    }
    const auto slash = url.find('/', scheme + 3);
    if (slash != std::string_view::npos && slash < at)
    {
        return std::string(url);
    }
    return fmt::format("{}***{}", url.substr(0, scheme + 3), url.substr(at));
}

} // namespace azl::oobe
