// download_file() on Linux (the sandbox backend): curl, which honours https_proxy / no_proxy and
// the system's trusted roots like every other tool on the machine. The launcher is linked with a
// static C++ runtime for its start-up time, so an HTTP library built as a shared C++ library is not
// an option here; Windows' azurelinux.exe uses WinHTTP (download_win32.cpp).
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/process.hpp>
#include <azl/common/text.hpp>
#include <azl/launcher/dsc.hpp>

#include <fmt/format.h>

namespace azl::launcher
{

void download_file(const std::string& url, const std::filesystem::path& destination)
{
    const auto curl = find_program("curl");
    if (!curl)
    {
        throw UserError(
            fmt::format("cannot download {}: curl is not installed", url_for_display(url)),
            "install curl (apt-get install curl), or download the image and give its path");
    }
    std::error_code ec;
    if (std::filesystem::exists(destination, ec))
    {
        throw UserError(fmt::format("{} exists already", destination.string()));
    }
    const std::filesystem::path partial = destination.string() + ".part";
    // --fail: an HTTP error status is an error, not a saved error page. The URL goes through a
    // config file on stdin, not argv: a SAS token in its query is a secret.
    std::string quoted;
    for (const char c : url)
    {
        if (c == '"' || c == '\\')
        {
            quoted.push_back('\\');
        }
        quoted.push_back(c);
    }
    ProcessOptions options;
    options.stdin_data = fmt::format("url = \"{}\"\n", quoted);
    const auto result = run_process(
        {curl->string(),
         "--silent",
         "--show-error",
         "--fail",
         "--location",
         "--proto",
         "=http,https",
         "--connect-timeout",
         "30",
         "--config",
         "-",
         "--output",
         partial.string()},
        options);
    if (!result.ok())
    {
        std::filesystem::remove(partial, ec);
        std::string why(trim(result.err));
        if (const auto colon = why.find(": ");
            why.starts_with("curl:") && colon != std::string::npos)
        {
            why = why.substr(colon + 2);
        }
        throw UserError(
            fmt::format(
                "cannot download {}: {}", url_for_display(url), why.empty() ? "curl failed" : why),
            "check the URL, the network and the proxy (https_proxy)");
    }
    std::filesystem::rename(partial, destination);
}

} // namespace azl::launcher
