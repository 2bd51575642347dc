#pragma once
// Proxy auto-configuration (PAC): a PAC-only host (Windows' AutoConfigURL, WSL's WSL_PAC_URL, the
// sandbox's $AZL_SANDBOX_PAC_URL) made explicit for the guest, whose tools (apt, tdnf, git, curl,
// pip, npm) read one proxy URL and a no_proxy list and cannot run JavaScript. The launcher
// evaluates the file on the host for the URLs the guest must reach (platform code: WinHTTP's
// WinHttpGetProxyForUrl on Windows, as Windows' own programs do; libpacparser on Linux) and turns
// the answers into one proxy per scheme and the hosts that go DIRECT.

#include <chrono>
#include <string>
#include <vector>

namespace azl::launcher
{

// What evaluating a PAC file gave: one FindProxyForURL answer per URL asked, or why there is none.
struct PacEvaluation
{
    std::vector<std::string> answers; // "PROXY p:8080; DIRECT", one per URL; empty on a problem
    std::string problem; // "PAC file URL unreachable: …", "PAC script error in URL: …"; one line
};

// Fetches the PAC file at `pac_url` (http:// or https:// URL, file:// URL or absolute path; at
// most kPacMaxBytes, within `timeout`) and asks its FindProxyForURL about each of `urls`
// (platform code). Never throws for a bad file or network: that is the problem.
PacEvaluation evaluate_pac(
    const std::string& pac_url,
    const std::vector<std::string>& urls,
    std::chrono::milliseconds timeout);

// The largest PAC file fetched (real ones are a few KiB).
inline constexpr std::size_t kPacMaxBytes = 1U << 20U;

// The host of an http(s) URL, lower-cased, without user info, brackets or port.
std::string pac_url_host(std::string_view url);

// What one FindProxyForURL answer lets the guest's tools do.
struct PacChoice
{
    enum class Kind
    {
        direct,   // DIRECT
        proxy,    // an HTTP(S) proxy: `proxy` is its URL
        unusable, // SOCKS only, or nothing understood: `why` says which
    };
    Kind kind = Kind::direct;
    std::string proxy;          // "http://p:8080"
    std::string why;            // for unusable: "SOCKS only (SOCKS5 s:1080)", "not understood: …"
    bool skipped_socks = false; // a SOCKS directive came first and was passed over
};

// The first directive of `answer` the guest's tools can use ("PROXY a; PROXY b" is a; "SOCKS s;
// PROXY p" is p; an empty answer is DIRECT, as the PAC convention has it).
PacChoice interpret_pac_answer(std::string_view answer);

// The explicit settings the answers make, and what to tell people about them.
struct PacOutcome
{
    std::string http;                // the proxy for http:// URLs (empty: none)
    std::string https;               // the proxy for https:// URLs (empty: none)
    std::vector<std::string> direct; // hosts the PAC file sends DIRECT (no_proxy)
    std::vector<std::string> lines;  // a summary: which host goes where, and what cannot be done
};

// Interprets `answers[i]` for `urls[i]`: the first proxy named for an https:// URL is the https
// proxy (likewise http://; each stands in for the other when a scheme has none), DIRECT hosts go
// to no_proxy, and hosts sent through another proxy or to SOCKS only are named in the lines.
PacOutcome interpret_pac_answers(
    std::string_view pac_url,
    const std::vector<std::string>& urls,
    const std::vector<std::string>& answers);

} // namespace azl::launcher
