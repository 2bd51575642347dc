// download_file() on Windows: WinHTTP with the proxy Windows uses (automatic proxy, else the
// WinHTTP default), Windows' trusted roots, redirects followed.
#include "winhttp_win32.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/win32/win32.hpp>
#include <azl/launcher/dsc.hpp>

#include <fmt/format.h>

#include <windows.h>
#include <winhttp.h>

#include <memory>
#include <span>
#include <vector>

namespace azl::launcher
{

namespace
{

[[noreturn]] void fail(const std::string& url, std::string_view what_we_did)
{
    const DWORD code = ::GetLastError();
    throw UserError(
        fmt::format(
            "cannot download {}: {} failed ({})",
            url_for_display(url),
            what_we_did,
            win32::error_message(code)),
        "check the URL, the network and the proxy (netsh winhttp show proxy)");
}

} // namespace

void download_file(const std::string& url, const std::filesystem::path& destination)
{
    std::wstring wide = win32::to_wide(url, "the image URL");
    URL_COMPONENTS parts{};
    parts.dwStructSize = sizeof(parts);
    parts.dwHostNameLength = static_cast<DWORD>(-1);
    parts.dwUrlPathLength = static_cast<DWORD>(-1);
    parts.dwExtraInfoLength = static_cast<DWORD>(-1);
    if (::WinHttpCrackUrl(wide.c_str(), 0, 0, &parts) == FALSE)
    {
        fail(url, "reading the URL");
    }
    const std::wstring host(parts.lpszHostName, parts.dwHostNameLength);
    std::wstring target(parts.lpszUrlPath, parts.dwUrlPathLength);
    target.append(parts.lpszExtraInfo, parts.dwExtraInfoLength);
    if (target.empty())
    {
        target = L"/";
    }

    WinHttpHandle session(
        ::WinHttpOpen(L"azurelinux", WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY, nullptr, nullptr, 0));
    if (!session)
    {
        // Before Windows 8.1 (and in Wine): the proxy `netsh winhttp set proxy` configured.
        session.reset(
            ::WinHttpOpen(L"azurelinux", WINHTTP_ACCESS_TYPE_DEFAULT_PROXY, nullptr, nullptr, 0));
    }
    if (!session)
    {
        fail(url, "WinHttpOpen");
    }
    WinHttpHandle connection(::WinHttpConnect(session.get(), host.c_str(), parts.nPort, 0));
    if (!connection)
    {
        fail(url, "connecting");
    }
    const DWORD flags = parts.nScheme == INTERNET_SCHEME_HTTPS ? WINHTTP_FLAG_SECURE : 0;
    WinHttpHandle request(::WinHttpOpenRequest(
        connection.get(),
        L"GET",
        target.c_str(),
        nullptr,
        WINHTTP_NO_REFERER,
        WINHTTP_DEFAULT_ACCEPT_TYPES,
        flags));
    if (!request)
    {
        fail(url, "opening the request");
    }
    if (::WinHttpSendRequest(
            request.get(), WINHTTP_NO_ADDITIONAL_HEADERS, 0, WINHTTP_NO_REQUEST_DATA, 0, 0, 0)
            == FALSE
        || ::WinHttpReceiveResponse(request.get(), nullptr) == FALSE)
    {
        fail(url, "the request");
    }
    DWORD status = 0;
    DWORD size = sizeof(status);
    if (::WinHttpQueryHeaders(
            request.get(),
            WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
            WINHTTP_HEADER_NAME_BY_INDEX,
            &status,
            &size,
            WINHTTP_NO_HEADER_INDEX)
        == FALSE)
    {
        fail(url, "reading the status");
    }
    if (status != 200)
    {
        throw UserError(
            fmt::format(
                "cannot download {}: the server answered HTTP {}", url_for_display(url), status),
            "check the URL (a SAS token may have expired)");
    }
    AtomicFile out(destination, 0644);
    std::vector<char> buffer(1U << 20U);
    for (;;)
    {
        DWORD got = 0;
        if (::WinHttpReadData(request.get(), buffer.data(), static_cast<DWORD>(buffer.size()), &got)
            == FALSE)
        {
            fail(url, "reading the answer");
        }
        if (got == 0)
        {
            break;
        }
        out.write(std::as_bytes(std::span(buffer.data(), got)));
    }
    out.commit(Overwrite::no);
}

} // namespace azl::launcher
