// Proxy auto-configuration on Windows: WinHTTP fetches and runs the PAC file itself
// (WinHttpGetProxyForUrl with the auto-config URL), so the guest gets what Windows' own programs
// get, down to the credentials WinHTTP presents to a PAC server that asks for them.
#include "winhttp_win32.hpp"

#include <azl/common/c_ptr.hpp>
#include <azl/common/win32/win32.hpp>
#include <azl/launcher/pac.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <winhttp.h>

namespace azl::launcher
{

namespace
{

void free_global(wchar_t* text) noexcept
{
    ::GlobalFree(text);
}

using GlobalText = UniqueCPtr<wchar_t, &free_global>;

// WINHTTP_PROXY_INFO's list ("p1:8080; p2:8080" or "http=p:80"), as a PAC answer.
std::string as_answer(const std::string& proxies)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= proxies.size())
    {
        auto end = proxies.find_first_of("; ", start);
        if (end == std::string::npos)
        {
            end = proxies.size();
        }
        std::string item = proxies.substr(start, end - start);
        start = end + 1;
        if (item.empty())
        {
            continue;
        }
        if (const auto eq = item.find('='); eq != std::string::npos)
        {
            item.erase(0, eq + 1); // "http=p:80": the scheme WinHTTP chose for this URL
        }
        out.push_back("PROXY " + item);
    }
    return out.empty() ? std::string("DIRECT") : fmt::format("{}", fmt::join(out, "; "));
}

std::string failure(const std::string& pac_url, DWORD code)
{
    switch (code)
    {
    case ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT:
        return fmt::format(
            "PAC script error in {}: WinHTTP could not run it ({})",
            pac_url,
            win32::error_message(code));
    case ERROR_WINHTTP_UNRECOGNIZED_SCHEME:
        return fmt::format(
            "PAC file {} unreachable: WinHTTP fetches auto-config files over http:// and "
            "https:// only",
            pac_url);
    default:
        return fmt::format("PAC file {} unreachable: {}", pac_url, win32::error_message(code));
    }
}

} // namespace

PacEvaluation evaluate_pac(
    const std::string& pac_url,
    const std::vector<std::string>& urls,
    std::chrono::milliseconds timeout)
{
    PacEvaluation out;
    const WinHttpHandle session(::WinHttpOpen(
        L"azurelinux",
        WINHTTP_ACCESS_TYPE_NO_PROXY,
        WINHTTP_NO_PROXY_NAME,
        WINHTTP_NO_PROXY_BYPASS,
        0));
    if (!session)
    {
        out.problem = fmt::format(
            "the PAC file {} is not evaluated: WinHTTP: {}",
            pac_url,
            win32::error_message(::GetLastError()));
        return out;
    }
    // The session's timeouts bound the download of the script too.
    const int ms = static_cast<int>(timeout.count());
    ::WinHttpSetTimeouts(session.get(), ms, ms, ms, ms);
    std::wstring config_url;
    try
    {
        config_url = win32::to_wide(pac_url, "the PAC URL");
    }
    catch (const std::exception& e)
    {
        out.problem = fmt::format("PAC file {} unreachable: {}", pac_url, e.what());
        return out;
    }
    WINHTTP_AUTOPROXY_OPTIONS options{};
    options.dwFlags = WINHTTP_AUTOPROXY_CONFIG_URL;
    options.lpszAutoConfigUrl = config_url.c_str();
    options.fAutoLogonIfChallenged = TRUE;
    for (const auto& url : urls)
    {
        WINHTTP_PROXY_INFO info{};
        const std::wstring wide_url = win32::to_wide(url, "a URL");
        if (::WinHttpGetProxyForUrl(session.get(), wide_url.c_str(), &options, &info) == FALSE)
        {
            out.problem = failure(pac_url, ::GetLastError());
            out.answers.clear();
            return out;
        }
        const GlobalText proxy(info.lpszProxy);
        const GlobalText bypass(info.lpszProxyBypass);
        if (info.dwAccessType == WINHTTP_ACCESS_TYPE_NO_PROXY || !proxy)
        {
            out.answers.emplace_back("DIRECT");
        }
        else
        {
            out.answers.push_back(as_answer(win32::to_utf8(proxy.get())));
        }
    }
    return out;
}

} // namespace azl::launcher
