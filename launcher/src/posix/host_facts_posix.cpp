// The host's certificates and proxy on Linux, where the sandbox stands in for WSL: a folder of
// certificate files ($AZL_SANDBOX_TRUSTED_CERTS) stands in for Windows' Root and CA stores, and
// the host's own proxy variables (and $AZL_SANDBOX_PAC_URL, AutoConfigURL) for its Internet
// Settings. The sandbox shares the host's network, so its loopback is the guest's too (as in WSL's
// mirrored mode).
#include <azl/common/fs.hpp>
#include <azl/launcher/host_sync.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace azl::launcher
{

namespace fs = std::filesystem;

namespace
{

std::string env_or_empty(const char* lower, const char* upper)
{
    for (const char* key : {lower, upper})
    {
        const char* v = std::getenv(key);
        if (v != nullptr && *v != '\0')
        {
            return v;
        }
    }
    return {};
}

void read_store_folder(const fs::path& folder, HostFacts& facts)
{
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder, ec))
    {
        if (entry.is_regular_file(ec))
        {
            files.push_back(entry.path());
        }
    }
    if (ec && ec != std::errc::no_such_file_or_directory)
    {
        facts.notes.push_back(fmt::format(
            "cannot read the certificate folder {}: {}", folder.string(), ec.message()));
        facts.certificates_known = false;
        return;
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files)
    {
        std::string data;
        try
        {
            data = read_file(file, 1U << 20U);
        }
        catch (const std::exception& e)
        {
            facts.notes.emplace_back(e.what());
            continue;
        }
        const std::string store = "sandbox:" + file.filename().string();
        if (data.find("-----BEGIN") != std::string::npos)
        {
            facts.certificates.push_back({store, std::move(data)});
        }
        else
        {
            // DER, as Windows stores it; the guest judges whether it is a certificate at all.
            facts.certificates.push_back(
                {store,
                 der_to_pem(
                     std::span(reinterpret_cast<const unsigned char*>(data.data()), data.size()))});
        }
    }
}

} // namespace

HostFacts read_host_facts()
{
    HostFacts facts;
    facts.certificates_known = true;
    if (const char* folder = std::getenv("AZL_SANDBOX_TRUSTED_CERTS");
        folder != nullptr && *folder != '\0')
    {
        read_store_folder(folder, facts);
    }
    HostProxy p;
    p.source = "the host's environment";
    p.http = env_or_empty("http_proxy", "HTTP_PROXY");
    p.https = env_or_empty("https_proxy", "HTTPS_PROXY");
    const std::string no_proxy = env_or_empty("no_proxy", "NO_PROXY");
    std::size_t start = 0;
    while (start < no_proxy.size())
    {
        auto end = no_proxy.find(',', start);
        if (end == std::string::npos)
        {
            end = no_proxy.size();
        }
        if (end > start)
        {
            p.no_proxy.push_back(no_proxy.substr(start, end - start));
        }
        start = end + 1;
    }
    if (const char* pac = std::getenv("AZL_SANDBOX_PAC_URL"); pac != nullptr)
    {
        p.pac_url = pac; // stands in for Windows' AutoConfigURL
    }
    if (!p.http.empty() || !p.https.empty() || !p.pac_url.empty())
    {
        facts.proxy = std::move(p);
    }
    facts.loopback_reachable = true;
    return facts;
}

fs::path host_sync_state_dir()
{
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/')
    {
        return fs::path(xdg) / "azurelinux" / "host-sync";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/')
    {
        return fs::path(home) / ".local/share/azurelinux/host-sync";
    }
    return fs::temp_directory_path() / "azurelinux-host-sync";
}

} // namespace azl::launcher
