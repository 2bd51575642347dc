// What a PAC file's answers mean for the guest: one proxy per scheme, and the hosts that go DIRECT.
#include <azl/common/text.hpp>
#include <azl/launcher/pac.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace azl::launcher
{

namespace
{

void add_unique(std::vector<std::string>& list, const std::string& item)
{
    if (std::find(list.begin(), list.end(), item) == list.end())
    {
        list.push_back(item);
    }
}

// A PAC answer as written in a message: one line, not too long.
std::string quoted(std::string_view answer)
{
    std::string out;
    for (const char c : answer.substr(0, 120))
    {
        out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
    }
    return fmt::format("\"{}{}\"", out, answer.size() > 120 ? "…" : "");
}

} // namespace

std::string pac_url_host(std::string_view url)
{
    if (const auto scheme = url.find("://"); scheme != std::string_view::npos)
    {
        url.remove_prefix(scheme + 3);
    }
    url = url.substr(0, url.find_first_of("/?#"));
    if (const auto at = url.rfind('@'); at != std::string_view::npos)
    {
        url.remove_prefix(at + 1);
    }
    if (url.starts_with('['))
    {
        return ascii_lower(url.substr(1, url.find(']') - 1));
    }
    return ascii_lower(url.substr(0, url.find(':')));
}

PacChoice interpret_pac_answer(std::string_view answer)
{
    PacChoice choice;
    if (trim(answer).empty())
    {
        return choice; // an empty answer means DIRECT
    }
    std::vector<std::string> socks;
    std::size_t start = 0;
    while (start <= answer.size())
    {
        auto end = answer.find(';', start);
        if (end == std::string_view::npos)
        {
            end = answer.size();
        }
        const auto directive = trim(answer.substr(start, end - start));
        start = end + 1;
        if (directive.empty())
        {
            continue;
        }
        const auto space = directive.find_first_of(" \t");
        const std::string kind = ascii_lower(directive.substr(0, space));
        const auto where =
            space == std::string_view::npos ? std::string_view() : trim(directive.substr(space));
        const bool one_word = where.find_first_of(" \t/") == std::string_view::npos;
        if (kind == "direct" && where.empty())
        {
            choice.kind = PacChoice::Kind::direct;
            choice.skipped_socks = !socks.empty();
            return choice;
        }
        if ((kind == "proxy" || kind == "http" || kind == "https") && !where.empty() && one_word)
        {
            choice.kind = PacChoice::Kind::proxy;
            choice.proxy = fmt::format("{}://{}", kind == "https" ? "https" : "http", where);
            choice.skipped_socks = !socks.empty();
            return choice;
        }
        if ((kind == "socks" || kind == "socks4" || kind == "socks5") && !where.empty())
        {
            socks.emplace_back(directive);
        }
    }
    choice.kind = PacChoice::Kind::unusable;
    choice.why = socks.empty() ? fmt::format("an answer that is not understood: {}", quoted(answer))
                               : fmt::format("SOCKS only ({})", fmt::join(socks, "; "));
    return choice;
}

PacOutcome interpret_pac_answers(
    std::string_view pac_url,
    const std::vector<std::string>& urls,
    const std::vector<std::string>& answers)
{
    PacOutcome out;
    std::vector<std::string> proxied_hosts;
    std::vector<std::string> direct;
    std::vector<std::string> warnings;
    // host -> proxy, for the hosts whose answer names another proxy than the one chosen
    std::vector<std::pair<std::string, std::string>> proxied;
    for (std::size_t i = 0; i < urls.size() && i < answers.size(); ++i)
    {
        const std::string host = pac_url_host(urls[i]);
        const auto choice = interpret_pac_answer(answers[i]);
        if (choice.kind == PacChoice::Kind::unusable)
        {
            warnings.push_back(fmt::format(
                "the PAC file answers {} for {}: apt, tdnf, git, curl, pip and npm cannot use "
                "that, so {} is reached directly; set a proxy in the answers if it cannot be",
                choice.why,
                host,
                host));
            add_unique(direct, host);
            continue;
        }
        if (choice.skipped_socks)
        {
            warnings.push_back(fmt::format(
                "the PAC file offers SOCKS first for {}: the guest's tools cannot use SOCKS, so "
                "they take its next choice",
                host));
        }
        if (choice.kind == PacChoice::Kind::direct)
        {
            add_unique(direct, host);
            continue;
        }
        std::string& slot = urls[i].starts_with("http://") ? out.http : out.https;
        if (slot.empty())
        {
            slot = choice.proxy;
        }
        proxied.emplace_back(host, choice.proxy);
        add_unique(proxied_hosts, host);
    }
    if (out.http.empty())
    {
        out.http = out.https;
    }
    if (out.https.empty())
    {
        out.https = out.http;
    }
    // A host some URL sends through a proxy is not DIRECT, whatever another URL of it says.
    for (const auto& host : direct)
    {
        if (std::find(proxied_hosts.begin(), proxied_hosts.end(), host) == proxied_hosts.end())
        {
            out.direct.push_back(host);
        }
    }
    for (const auto& [host, proxy] : proxied)
    {
        if (proxy != out.http && proxy != out.https)
        {
            warnings.push_back(fmt::format(
                "the PAC file sends {} through {}, but the guest's tools take one proxy: {} goes "
                "through {}",
                host,
                proxy,
                host,
                out.https));
        }
    }
    const std::vector<std::string>& through = proxied_hosts;
    std::string summary = fmt::format("PAC file {} evaluated for {} hosts", pac_url, urls.size());
    if (!through.empty())
    {
        summary += fmt::format(
            ": {} through {}",
            fmt::join(through, ", "),
            out.http == out.https ? out.https
                                  : fmt::format("{} (https) and {} (http)", out.https, out.http));
    }
    summary += out.direct.empty() ? std::string("; none DIRECT")
                                  : fmt::format("; DIRECT: {}", fmt::join(out.direct, ", "));
    out.lines.push_back(std::move(summary));
    for (auto& w : warnings)
    {
        out.lines.push_back(std::move(w));
    }
    return out;
}

} // namespace azl::launcher
