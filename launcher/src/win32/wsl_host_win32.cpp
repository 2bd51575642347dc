#include "registry_win32.hpp"
#include "wsl_win32.hpp"

#include <azl/common/error.hpp>
#include <azl/common/progress.hpp>
#include <azl/common/win32/win32.hpp>
#include <azl/launcher/wsl_backend.hpp>
#include <azl/launcher/wsl_cli.hpp>

#include <fmt/format.h>

#include <knownfolders.h>
#include <shlobj.h>

#include <array>
#include <vector>

namespace azl::launcher
{

namespace
{

namespace fs = std::filesystem;
using win32::to_utf8;

constexpr const wchar_t* kLxssKey = L"Software\\Microsoft\\Windows\\CurrentVersion\\Lxss";

using winreg::read_dword;
using winreg::read_string;
using winreg::RegKey;

std::optional<RegKey> open_key(const std::wstring& path, REGSAM access)
{
    return winreg::open_key(HKEY_CURRENT_USER, path, access);
}

std::optional<LxssEntry> read_entry(HKEY lxss, const std::wstring& guid)
{
    HKEY raw = nullptr;
    if (::RegOpenKeyExW(lxss, guid.c_str(), 0, KEY_READ, &raw) != ERROR_SUCCESS)
    {
        return std::nullopt;
    }
    const RegKey key(raw);
    const auto name = read_string(key.get(), L"DistributionName");
    if (!name)
    {
        return std::nullopt; // not a distribution (e.g. AppxInstallerCache)
    }
    std::wstring base = read_string(key.get(), L"BasePath").value_or(std::wstring());
    if (base.starts_with(L"\\\\?\\"))
    {
        base.erase(0, 4);
    }
    return LxssEntry{
        .guid = to_utf8(guid),
        .name = to_utf8(*name),
        .base_path = fs::path(base),
        // WSL 2 is a flag; the Version value is the file system's.
        .version = (read_dword(key.get(), L"Flags").value_or(0) & wsl::kVmModeFlag) != 0 ? 2U : 1U,
        .default_uid = read_dword(key.get(), L"DefaultUid").value_or(0),
        .run_oobe = read_dword(key.get(), L"RunOOBE").value_or(0) != 0,
        .state = read_dword(key.get(), L"State").value_or(1),
    };
}

class SystemWslHost final : public WslHost
{
public:
    std::optional<fs::path> wsl_exe() override
    {
        fs::path exe = win32::system_directory() / L"wsl.exe";
        const DWORD attributes = ::GetFileAttributesW(exe.c_str());
        if (attributes == INVALID_FILE_ATTRIBUTES || (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
        {
            return std::nullopt;
        }
        return exe;
    }

    ProcessResult run(const std::vector<std::string>& argv, const ProcessOptions& options) override
    {
        return run_process(argv, options);
    }

    LxssRegistry lxss() override
    {
        LxssRegistry registry;
        const auto lxss = open_key(kLxssKey, KEY_READ);
        if (!lxss)
        {
            return registry;
        }
        if (auto guid = read_string(lxss->get(), L"DefaultDistribution"))
        {
            registry.default_guid = to_utf8(*guid);
        }
        std::array<wchar_t, 256> name{};
        for (DWORD i = 0;; ++i)
        {
            auto length = static_cast<DWORD>(name.size());
            const LSTATUS status = ::RegEnumKeyExW(
                lxss->get(), i, name.data(), &length, nullptr, nullptr, nullptr, nullptr);
            if (status == ERROR_NO_MORE_ITEMS)
            {
                break;
            }
            if (status != ERROR_SUCCESS)
            {
                throw win32::make_system_error(
                    "reading the WSL registry key", static_cast<DWORD>(status));
            }
            if (auto entry = read_entry(lxss->get(), std::wstring(name.data(), length)))
            {
                registry.entries.push_back(std::move(*entry));
            }
        }
        return registry;
    }

    void set_run_oobe(const std::string& guid, bool pending) override
    {
        const std::wstring path = std::wstring(kLxssKey) + L"\\" + win32::to_wide(guid);
        const auto key = open_key(path, KEY_SET_VALUE);
        if (!key)
        {
            throw SystemError(
                "recording first-run setup", fmt::format("registry key {} is gone", guid));
        }
        const DWORD value = pending ? 1 : 0;
        const LSTATUS status = ::RegSetValueExW(
            key->get(),
            L"RunOOBE",
            0,
            REG_DWORD,
            reinterpret_cast<const BYTE*>(&value),
            sizeof value);
        if (status != ERROR_SUCCESS)
        {
            throw win32::make_system_error("recording first-run setup", static_cast<DWORD>(status));
        }
    }

    std::string sha256_file(const fs::path& file, ProgressMode progress_mode) override;

    fs::path default_import_location(const std::string& name) override
    {
        PWSTR raw = nullptr;
        const HRESULT hr = ::SHGetKnownFolderPath(FOLDERID_LocalAppData, 0, nullptr, &raw);
        const std::unique_ptr<wchar_t, decltype(&::CoTaskMemFree)> folder(raw, &::CoTaskMemFree);
        if (FAILED(hr))
        {
            throw win32::make_system_error(
                "finding the local application data folder", static_cast<DWORD>(hr));
        }
        return fs::path(folder.get()) / L"wsl" / win32::to_wide(name, "a distribution name");
    }

    fs::path absolute_path(const fs::path& path) override
    {
        const DWORD needed = ::GetFullPathNameW(path.c_str(), 0, nullptr, nullptr);
        std::wstring out(needed, L'\0');
        const DWORD n = ::GetFullPathNameW(path.c_str(), needed, out.data(), nullptr);
        if (n == 0 || n >= needed)
        {
            win32::throw_last_error(fmt::format("resolving {}", path.string()));
        }
        out.resize(n);
        return out;
    }

    void create_parent_directories(const fs::path& path) override
    {
        const fs::path dir = absolute_path(path).parent_path();
        const int rc = ::SHCreateDirectoryExW(nullptr, dir.c_str(), nullptr);
        if (rc != ERROR_SUCCESS && rc != ERROR_ALREADY_EXISTS && rc != ERROR_FILE_EXISTS)
        {
            throw UserError(
                fmt::format(
                    "cannot create the folder {}: {}",
                    path_to_utf8(dir),
                    win32::error_message(static_cast<DWORD>(rc))),
                "choose a --location on a drive and folder you can write to");
        }
    }

    void move_replace(const fs::path& from, const fs::path& to) override
    {
        if (::MoveFileExW(
                from.c_str(), to.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)
            == 0)
        {
            win32::throw_last_error(fmt::format("moving the export into place as {}", to.string()));
        }
    }
};

std::string SystemWslHost::sha256_file(const fs::path& file, ProgressMode progress_mode)
{
    return win32::sha256_file(file, progress_mode);
}

} // namespace

std::unique_ptr<WslHost> make_wsl_host()
{
    return std::make_unique<SystemWslHost>();
}

} // namespace azl::launcher
