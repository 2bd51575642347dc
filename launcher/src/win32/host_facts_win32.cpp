// The certificates Windows trusts and its proxy settings: crypt32's system stores (Root and CA of
// the machine and the user, with what Group Policy, Intune and the Enterprise store pushed) and the
// Internet Settings registry values; WSL's networking mode from %USERPROFILE%\.wslconfig.
#include "registry_win32.hpp"

#include <azl/common/c_ptr.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/ini.hpp>
#include <azl/common/text.hpp>
#include <azl/common/win32/win32.hpp>
#include <azl/launcher/host_sync.hpp>

#include <fmt/format.h>

#include <knownfolders.h>
#include <shlobj.h>
#include <wincrypt.h>

#include <array>
#include <set>

namespace azl::launcher
{

namespace fs = std::filesystem;

namespace
{

void close_store(void* store) noexcept
{
    ::CertCloseStore(static_cast<HCERTSTORE>(store), 0);
}

using CertStore = UniqueCPtr<void, &close_store>;

struct StoreLocation
{
    DWORD flag;
    const char* name;
};

// Every place a trusted root or intermediate can come from; the guest skips what it already
// trusts (the public roots), so reading them all is harmless.
constexpr std::array kLocations = {
    StoreLocation{CERT_SYSTEM_STORE_LOCAL_MACHINE, "LocalMachine"},
    StoreLocation{CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY, "LocalMachine Group Policy"},
    StoreLocation{CERT_SYSTEM_STORE_LOCAL_MACHINE_ENTERPRISE, "LocalMachine Enterprise"},
    StoreLocation{CERT_SYSTEM_STORE_CURRENT_USER, "CurrentUser"},
    StoreLocation{CERT_SYSTEM_STORE_CURRENT_USER_GROUP_POLICY, "CurrentUser Group Policy"},
};

void read_store(const StoreLocation& where, const wchar_t* store_name, HostFacts& facts)
{
    CertStore store(::CertOpenStore(
        CERT_STORE_PROV_SYSTEM_W,
        0,
        0,
        where.flag | CERT_STORE_READONLY_FLAG | CERT_STORE_OPEN_EXISTING_FLAG,
        store_name));
    if (!store)
    {
        const DWORD err = ::GetLastError();
        if (err != ERROR_FILE_NOT_FOUND && err != ERROR_PATH_NOT_FOUND)
        {
            facts.notes.push_back(fmt::format(
                "cannot open the certificate store {}\\{}: {}",
                where.name,
                win32::to_utf8(store_name),
                win32::error_message(err)));
        }
        return;
    }
    const std::string label = fmt::format("{}\\{}", where.name, win32::to_utf8(store_name));
    PCCERT_CONTEXT cert = nullptr;
    // Each call frees the previous context; the loop ends with none held.
    while ((cert = ::CertEnumCertificatesInStore(store.get(), cert)) != nullptr)
    {
        if (cert->dwCertEncodingType != X509_ASN_ENCODING || cert->cbCertEncoded == 0)
        {
            continue;
        }
        facts.certificates.push_back(
            {label, der_to_pem(std::span(cert->pbCertEncoded, cert->cbCertEncoded))});
    }
}

// The key, or nullopt when it is missing or cannot be read: a host setting we cannot read is one
// the guest does not get, never an error.
std::optional<winreg::RegKey> open_key(HKEY root, const wchar_t* path)
{
    try
    {
        return winreg::open_key(root, path);
    }
    catch (const std::exception&)
    {
        return std::nullopt;
    }
}

// A string value as UTF-8; empty when missing.
std::string read_string(HKEY key, const wchar_t* name)
{
    const auto value = winreg::read_string(key, name);
    return value ? win32::to_utf8(*value) : std::string();
}

using winreg::known_folder;
using winreg::read_dword;

constexpr const wchar_t* kInternetSettings =
    L"Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings";
constexpr const wchar_t* kInternetSettingsPolicy =
    L"Software\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings";

// The user's settings, or the machine's when policy makes them per machine (ProxySettingsPerUser
// = 0).
InternetSettings read_internet_settings()
{
    HKEY root = HKEY_CURRENT_USER;
    if (const auto policy = open_key(HKEY_LOCAL_MACHINE, kInternetSettingsPolicy))
    {
        if (read_dword(policy->get(), L"ProxySettingsPerUser") == DWORD{0})
        {
            root = HKEY_LOCAL_MACHINE;
        }
    }
    InternetSettings s;
    const auto key = open_key(root, kInternetSettings);
    if (!key)
    {
        return s;
    }
    s.proxy_enable = read_dword(key->get(), L"ProxyEnable").value_or(0) != 0;
    s.proxy_server = read_string(key->get(), L"ProxyServer");
    s.proxy_override = read_string(key->get(), L"ProxyOverride");
    s.auto_config_url = read_string(key->get(), L"AutoConfigURL");
    return s;
}

// WSL 2's NAT mode (the default) gives the guest its own loopback; mirrored mode shares Windows'.
bool guest_reaches_host_loopback(HostFacts& facts)
{
    const fs::path profile = known_folder(FOLDERID_Profile);
    if (profile.empty())
    {
        return false;
    }
    const fs::path conf = profile / L".wslconfig";
    std::error_code ec;
    if (!fs::is_regular_file(conf, ec))
    {
        return false;
    }
    try
    {
        const auto ini = IniFile::parse(read_file(conf, 1U << 20U), win32::to_utf8(conf.wstring()));
        return ascii_lower(ini.get("wsl2", "networkingMode").value_or("nat")) == "mirrored";
    }
    catch (const std::exception& e)
    {
        facts.notes.emplace_back(e.what());
        return false;
    }
}

} // namespace

HostFacts read_host_facts()
{
    HostFacts facts;
    facts.certificates_known = true;
    for (const auto& where : kLocations)
    {
        for (const wchar_t* name : {L"Root", L"CA"})
        {
            read_store(where, name, facts);
        }
    }
    facts.proxy = proxy_from_internet_settings(read_internet_settings());
    facts.loopback_reachable = guest_reaches_host_loopback(facts);
    return facts;
}

fs::path host_sync_state_dir()
{
    const fs::path local = known_folder(FOLDERID_LocalAppData);
    if (local.empty())
    {
        return fs::temp_directory_path() / L"azurelinux" / L"host-sync";
    }
    return local / L"azurelinux" / L"host-sync";
}

} // namespace azl::launcher
