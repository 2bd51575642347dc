// The simulator's wslapi.dll: the seven functions of wslapi.h (learn.microsoft.com: "wslapi.h
// header"), over the same registry and Linux half as its wsl.exe. The header itself is not
// included: its parameter names are not this project's style; the flags enum is passed as the
// 32-bit integer it is in the ABI. HRESULTs are WSL's own. A
// launch runs in a process of its own (wslsim-relay.exe, beside this DLL in System32) whose handle
// WslLaunch returns, as WSL returns the handle of the process relaying the Linux program.

#include "sim.hpp"

#include <objbase.h>

#include <array>
#include <string>

namespace
{

using Json = nlohmann::json;
using namespace wslsim;

HRESULT from_exception()
{
    try
    {
        throw;
    }
    catch (const WslError& e)
    {
        return e.hr;
    }
    catch (...)
    {
        return E_FAIL;
    }
}

std::wstring describe(PCWSTR text)
{
    return text == nullptr ? L"(null)" : std::wstring(L"\"") + text + L"\"";
}

std::wstring exe_directory(HMODULE module)
{
    std::array<wchar_t, 32768> path{};
    const DWORD n = ::GetModuleFileNameW(module, path.data(), static_cast<DWORD>(path.size()));
    std::wstring out(path.data(), n);
    return out.substr(0, out.find_last_of(L'\\'));
}

HMODULE self()
{
    HMODULE module = nullptr;
    ::GetModuleHandleExW(
        GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
        reinterpret_cast<LPCWSTR>(&self),
        &module);
    return module;
}

// Starts wslsim-relay.exe for `request` with exactly these three handles inherited.
HANDLE start_relay(const Json& request, HANDLE in, HANDLE out, HANDLE err)
{
    std::wstring hex;
    for (const unsigned char c : request.dump())
    {
        std::array<wchar_t, 3> two{};
        (void)swprintf(two.data(), two.size(), L"%02x", c);
        hex += two.data();
    }
    const std::wstring exe = exe_directory(self()) + L"\\wslsim-relay.exe";
    std::wstring command_line = L"\"" + exe + L"\" " + hex;

    std::array<HANDLE, 3> inherit{};
    const std::array<HANDLE, 3> given = {in, out, err};
    for (std::size_t i = 0; i < given.size(); ++i)
    {
        if (given.at(i) == nullptr || given.at(i) == INVALID_HANDLE_VALUE
            || ::DuplicateHandle(
                   ::GetCurrentProcess(),
                   given.at(i),
                   ::GetCurrentProcess(),
                   &inherit.at(i),
                   0,
                   TRUE,
                   DUPLICATE_SAME_ACCESS)
                   == 0)
        {
            for (std::size_t j = 0; j < i; ++j)
            {
                ::CloseHandle(inherit.at(j));
            }
            throw WslError{E_INVALIDARG, {}, {}};
        }
    }
    SIZE_T size = 0;
    ::InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
    std::string attributes_buffer(size, '\0');
    auto* attributes = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attributes_buffer.data());
    ::InitializeProcThreadAttributeList(attributes, 1, 0, &size);
    ::UpdateProcThreadAttribute(
        attributes,
        0,
        PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
        inherit.data(),
        sizeof(HANDLE) * inherit.size(),
        nullptr,
        nullptr);
    STARTUPINFOEXW startup{};
    startup.StartupInfo.cb = sizeof startup;
    startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    startup.StartupInfo.hStdInput = inherit.at(0);
    startup.StartupInfo.hStdOutput = inherit.at(1);
    startup.StartupInfo.hStdError = inherit.at(2);
    startup.lpAttributeList = attributes;
    PROCESS_INFORMATION info{};
    const BOOL ok = ::CreateProcessW(
        exe.c_str(),
        command_line.data(),
        nullptr,
        nullptr,
        TRUE,
        EXTENDED_STARTUPINFO_PRESENT,
        nullptr,
        nullptr,
        &startup.StartupInfo,
        &info);
    const DWORD error = ::GetLastError();
    ::DeleteProcThreadAttributeList(attributes);
    for (HANDLE h : inherit)
    {
        ::CloseHandle(h);
    }
    if (ok == 0)
    {
        throw WslError{HRESULT_FROM_WIN32(error), {}, {}};
    }
    ::CloseHandle(info.hThread);
    return info.hProcess;
}

Json launch_request(PCWSTR name, PCWSTR command, BOOL use_cwd)
{
    Json request = {{"name", narrow(name)}};
    if (command != nullptr && *command != L'\0')
    {
        request["command"] = narrow(command);
    }
    if (use_cwd != FALSE)
    {
        std::array<wchar_t, 32768> here{};
        const DWORD n = ::GetCurrentDirectoryW(static_cast<DWORD>(here.size()), here.data());
        const std::string guest = guest_path(std::wstring(here.data(), n));
        if (!guest.empty())
        {
            request["cwd"] = guest;
        }
    }
    return request;
}

} // namespace

// NOLINTBEGIN(readability-identifier-naming): the names wslapi.dll exports, fixed by wslapi.h
extern "C"
{
    BOOL WINAPI WslIsDistributionRegistered(PCWSTR distribution_name)
    {
        log_call(L"WslIsDistributionRegistered " + describe(distribution_name));
        try
        {
            return distribution_name != nullptr && Registry().find(distribution_name).has_value()
                       ? TRUE
                       : FALSE;
        }
        catch (...)
        {
            return FALSE;
        }
    }

    HRESULT WINAPI WslRegisterDistribution(PCWSTR distribution_name, PCWSTR tar_gz_filename)
    {
        log_call(
            L"WslRegisterDistribution " + describe(distribution_name) + L" "
            + describe(tar_gz_filename));
        try
        {
            if (auto hr = injected(L"WslRegisterDistribution"))
            {
                return *hr;
            }
            if (distribution_name == nullptr || tar_gz_filename == nullptr
                || !valid_name(distribution_name))
            {
                return E_INVALIDARG;
            }
            Registry registry;
            if (registry.find(distribution_name))
            {
                return static_cast<HRESULT>(0x800700b7); // ERROR_ALREADY_EXISTS
            }
            if (::GetFileAttributesW(tar_gz_filename) == INVALID_FILE_ATTRIBUTES)
            {
                return HRESULT_FROM_WIN32(::GetLastError());
            }
            // The classic API installs into the folder of the calling program.
            const std::wstring base = exe_directory(nullptr);
            Distro distro = registry.create(distribution_name, base, false);
            try
            {
                std::vector<Json> replies;
                const int status = host_call(
                    {{"op", "import"},
                     {"id", narrow(distro.guid)},
                     {"file", unix_path(tar_gz_filename)}},
                    {},
                    &replies);
                if (status != 0 || replies.empty() || !replies.back().value("valid", false))
                {
                    if (status == 0)
                    {
                        host_capture({{"op", "unregister"}, {"id", narrow(distro.guid)}});
                    }
                    registry.remove(distro);
                    return status != 0 ? static_cast<HRESULT>(0x8004030b)
                                       : static_cast<HRESULT>(0x80040326);
                }
                registry.set_dword(distro.guid, L"Modern", 1);
                registry.mark_installed(distro);
            }
            catch (...)
            {
                registry.remove(distro);
                throw;
            }
            return S_OK;
        }
        catch (...)
        {
            return from_exception();
        }
    }

    HRESULT WINAPI WslUnregisterDistribution(PCWSTR distribution_name)
    {
        log_call(L"WslUnregisterDistribution " + describe(distribution_name));
        try
        {
            if (auto hr = injected(L"WslUnregisterDistribution"))
            {
                return *hr;
            }
            Registry registry;
            const Distro distro =
                require(registry, distribution_name != nullptr ? distribution_name : L"");
            const Captured c = host_capture({{"op", "unregister"}, {"id", narrow(distro.guid)}});
            if (c.status != 0)
            {
                return E_FAIL;
            }
            ::DeleteFileW((distro.base_path + L"\\ext4.vhdx").c_str());
            ::RemoveDirectoryW(distro.base_path.c_str());
            registry.remove(distro);
            return S_OK;
        }
        catch (...)
        {
            return from_exception();
        }
    }

    HRESULT WINAPI WslConfigureDistribution(
        PCWSTR distribution_name, ULONG default_uid, ULONG wsl_distribution_flags)
    {
        log_call(
            L"WslConfigureDistribution " + describe(distribution_name) + L" "
            + std::to_wstring(default_uid) + L" "
            + std::to_wstring(static_cast<ULONG>(wsl_distribution_flags)));
        try
        {
            if (auto hr = injected(L"WslConfigureDistribution"))
            {
                return *hr;
            }
            auto flags = static_cast<DWORD>(wsl_distribution_flags);
            // LxssUserSessionImpl::ConfigureDistribution: an invalid uid or an unknown flag is
            // E_INVALIDARG; the WSL 2 bit is kept as it is.
            if (default_uid == 0xFFFFFFFF || (flags & ~kFlagsAll) != 0)
            {
                return E_INVALIDARG;
            }
            Registry registry;
            const Distro distro =
                require(registry, distribution_name != nullptr ? distribution_name : L"");
            flags = (flags & ~kFlagVmMode) | (distro.flags & kFlagVmMode);
            registry.set_dword(distro.guid, L"DefaultUid", default_uid);
            registry.set_dword(distro.guid, L"Flags", flags);
            return S_OK;
        }
        catch (...)
        {
            return from_exception();
        }
    }

    HRESULT WINAPI WslGetDistributionConfiguration(
        PCWSTR distribution_name,
        ULONG* distribution_version,
        ULONG* default_uid,
        ULONG* wsl_distribution_flags,
        PSTR** default_environment_variables,
        ULONG* default_environment_variable_count)
    {
        log_call(L"WslGetDistributionConfiguration " + describe(distribution_name));
        try
        {
            if (auto hr = injected(L"WslGetDistributionConfiguration"))
            {
                return *hr;
            }
            const Registry registry;
            const Distro distro =
                require(registry, distribution_name != nullptr ? distribution_name : L"");
            // The registry's Version (the file system version) and DefaultEnvironment's default
            // (DistributionRegistration.h).
            *distribution_version = distro.version;
            *default_uid = distro.default_uid;
            *wsl_distribution_flags = static_cast<ULONG>(distro.flags);
            const std::array<const char*, 4> environment = {
                "HOSTTYPE=x86_64",
                "LANG=en_US.UTF-8",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/"
                "local/games",
                "TERM=xterm-256color",
            };
            auto** strings =
                static_cast<PSTR*>(::CoTaskMemAlloc(sizeof(PSTR) * environment.size()));
            for (std::size_t i = 0; i < environment.size(); ++i)
            {
                const std::size_t n = std::char_traits<char>::length(environment.at(i)) + 1;
                strings[i] = static_cast<PSTR>(::CoTaskMemAlloc(n));
                std::char_traits<char>::copy(strings[i], environment.at(i), n);
            }
            *default_environment_variables = strings;
            *default_environment_variable_count = static_cast<ULONG>(environment.size());
            return S_OK;
        }
        catch (...)
        {
            return from_exception();
        }
    }

    HRESULT WINAPI WslLaunchInteractive(
        PCWSTR distribution_name,
        PCWSTR command,
        BOOL use_current_working_directory,
        DWORD* exit_code)
    {
        log_call(
            L"WslLaunchInteractive " + describe(distribution_name) + L" " + describe(command) + L" "
            + std::to_wstring(use_current_working_directory));
        try
        {
            if (auto hr = injected(L"WslLaunchInteractive"))
            {
                return *hr;
            }
            require(Registry(), distribution_name != nullptr ? distribution_name : L"");
            HANDLE process = start_relay(
                launch_request(distribution_name, command, use_current_working_directory),
                ::GetStdHandle(STD_INPUT_HANDLE),
                ::GetStdHandle(STD_OUTPUT_HANDLE),
                ::GetStdHandle(STD_ERROR_HANDLE));
            ::WaitForSingleObject(process, INFINITE);
            DWORD code = 0;
            ::GetExitCodeProcess(process, &code);
            ::CloseHandle(process);
            *exit_code = code;
            return S_OK;
        }
        catch (...)
        {
            return from_exception();
        }
    }

    // NOLINTNEXTLINE(readability-function-size): seven parameters, as wslapi.h declares it
    HRESULT WINAPI WslLaunch(
        PCWSTR distribution_name,
        PCWSTR command,
        BOOL use_current_working_directory,
        HANDLE std_in,
        HANDLE std_out,
        HANDLE std_err,
        HANDLE* process)
    {
        log_call(
            L"WslLaunch " + describe(distribution_name) + L" " + describe(command) + L" "
            + std::to_wstring(use_current_working_directory));
        try
        {
            if (auto hr = injected(L"WslLaunch"))
            {
                return *hr;
            }
            require(Registry(), distribution_name != nullptr ? distribution_name : L"");
            *process = start_relay(
                launch_request(distribution_name, command, use_current_working_directory),
                std_in,
                std_out,
                std_err);
            return S_OK;
        }
        catch (...)
        {
            return from_exception();
        }
    }

} // extern "C"
// NOLINTEND(readability-identifier-naming)
