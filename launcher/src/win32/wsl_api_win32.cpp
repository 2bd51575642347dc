#include "wsl_win32.hpp"

#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/win32/win32.hpp>
#include <azl/launcher/wsl_backend.hpp>

#include <fmt/format.h>

#include <wslapi.h>

#include <array>
#include <future>

// wslapi.dll, loaded at run time from System32 only (never from the executable's folder or the
// current directory, where a planted DLL would be found first). The import library is not linked:
// the .exe must start, and say what is wrong, on a Windows without WSL.

namespace azl::launcher
{

namespace
{

using win32::to_wide;
using win32::UniqueHandle;
using Module = UniqueCPtr<HINSTANCE__, &::FreeLibrary>;

using IsRegisteredFn = BOOL(WINAPI*)(PCWSTR);
using RegisterFn = HRESULT(WINAPI*)(PCWSTR, PCWSTR);
using UnregisterFn = HRESULT(WINAPI*)(PCWSTR);
using ConfigureFn = HRESULT(WINAPI*)(PCWSTR, ULONG, WSL_DISTRIBUTION_FLAGS);
using GetConfigurationFn =
    HRESULT(WINAPI*)(PCWSTR, ULONG*, ULONG*, WSL_DISTRIBUTION_FLAGS*, PSTR**, ULONG*);
using LaunchInteractiveFn = HRESULT(WINAPI*)(PCWSTR, PCWSTR, BOOL, DWORD*);
using LaunchFn = HRESULT(WINAPI*)(PCWSTR, PCWSTR, BOOL, HANDLE, HANDLE, HANDLE, HANDLE*);

// Frees what WslGetDistributionConfiguration allocated: each string, then the array.
class EnvironmentStrings
{
public:
    EnvironmentStrings() = default;
    EnvironmentStrings(const EnvironmentStrings&) = delete;
    EnvironmentStrings& operator=(const EnvironmentStrings&) = delete;
    EnvironmentStrings(EnvironmentStrings&&) = delete;
    EnvironmentStrings& operator=(EnvironmentStrings&&) = delete;

    ~EnvironmentStrings()
    {
        for (ULONG i = 0; m_strings != nullptr && i < m_count; ++i)
        {
            ::CoTaskMemFree(m_strings[i]);
        }
        ::CoTaskMemFree(static_cast<void*>(m_strings));
    }

    [[nodiscard]] std::vector<std::string> copy() const
    {
        std::vector<std::string> out;
        for (ULONG i = 0; m_strings != nullptr && i < m_count; ++i)
        {
            out.emplace_back(m_strings[i]);
        }
        return out;
    }

    PSTR* m_strings = nullptr;
    ULONG m_count = 0;
};

std::pair<UniqueHandle, UniqueHandle> make_pipe()
{
    HANDLE r = nullptr;
    HANDLE w = nullptr;
    if (::CreatePipe(&r, &w, nullptr, 0) == 0)
    {
        win32::throw_last_error("creating a pipe");
    }
    return {UniqueHandle(r), UniqueHandle(w)};
}

// Reads a WSL process's output pipe to its end on a thread of its own.
std::future<std::string> read_async(HANDLE pipe)
{
    return std::async(
        std::launch::async,
        [pipe]
        {
            std::string text;
            win32::read_pipe(pipe, text, "the output of a WSL process");
            return text;
        });
}

class DllWslApi final : public WslApi
{
public:
    DllWslApi()
    {
        m_module.reset(::LoadLibraryExW(L"wslapi.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32));
        if (!m_module)
        {
            const DWORD err = ::GetLastError();
            m_unavailable = err == ERROR_MOD_NOT_FOUND
                                ? std::string("wslapi.dll is not in the System32 folder")
                                : fmt::format("loading wslapi.dll: {}", win32::error_message(err));
            return;
        }
        bind(m_is_registered, "WslIsDistributionRegistered");
        bind(m_register, "WslRegisterDistribution");
        bind(m_unregister, "WslUnregisterDistribution");
        bind(m_configure, "WslConfigureDistribution");
        bind(m_get_configuration, "WslGetDistributionConfiguration");
        bind(m_launch_interactive, "WslLaunchInteractive");
        bind(m_launch, "WslLaunch");
    }

    std::optional<std::string> unavailable_reason() override
    {
        return m_unavailable;
    }

    bool is_distribution_registered(const std::string& name) override
    {
        return m_is_registered(wide_name(name).c_str()) != FALSE;
    }

    std::uint32_t
    register_distribution(const std::string& name, const std::filesystem::path& tar_gz) override
    {
        return static_cast<std::uint32_t>(m_register(wide_name(name).c_str(), tar_gz.c_str()));
    }

    std::uint32_t unregister_distribution(const std::string& name) override
    {
        return static_cast<std::uint32_t>(m_unregister(wide_name(name).c_str()));
    }

    std::uint32_t configure_distribution(
        const std::string& name, std::uint32_t default_uid, std::uint32_t flags) override
    {
        return static_cast<std::uint32_t>(m_configure(
            wide_name(name).c_str(), default_uid, static_cast<WSL_DISTRIBUTION_FLAGS>(flags)));
    }

    std::uint32_t
    get_distribution_configuration(const std::string& name, WslApiConfiguration& out) override
    {
        ULONG version = 0;
        ULONG uid = 0;
        WSL_DISTRIBUTION_FLAGS flags = WSL_DISTRIBUTION_FLAGS_NONE;
        EnvironmentStrings env;
        const HRESULT hr = m_get_configuration(
            wide_name(name).c_str(), &version, &uid, &flags, &env.m_strings, &env.m_count);
        if (SUCCEEDED(hr))
        {
            out = {version, uid, static_cast<std::uint32_t>(flags), env.copy()};
        }
        return static_cast<std::uint32_t>(hr);
    }

    std::uint32_t launch_interactive(
        const std::string& name,
        const std::string& command,
        bool use_cwd,
        std::uint32_t& exit_code) override
    {
        DWORD code = 0;
        const HRESULT hr = m_launch_interactive(
            wide_name(name).c_str(),
            to_wide(command, "a command").c_str(),
            use_cwd ? TRUE : FALSE,
            &code);
        exit_code = code;
        return static_cast<std::uint32_t>(hr);
    }

    std::uint32_t launch(
        const std::string& name,
        const std::string& command,
        bool use_cwd,
        const std::optional<std::string>& stdin_data,
        WslApiOutput& out) override;

    std::string describe(std::uint32_t hr) override
    {
        return win32::error_message(static_cast<DWORD>(hr));
    }

private:
    template <class Fn>
    void bind(Fn& fn, const char* symbol)
    {
        // Through void(*)(): the one function pointer type GCC lets any other convert from.
        fn = reinterpret_cast<Fn>(
            reinterpret_cast<void (*)()>(::GetProcAddress(m_module.get(), symbol)));
        if (fn == nullptr && !m_unavailable)
        {
            m_unavailable = fmt::format("wslapi.dll has no {}: this Windows is too old", symbol);
        }
    }

    static std::wstring wide_name(const std::string& name)
    {
        return to_wide(name, "a distribution name");
    }

    Module m_module;
    std::optional<std::string> m_unavailable;
    IsRegisteredFn m_is_registered = nullptr;
    RegisterFn m_register = nullptr;
    UnregisterFn m_unregister = nullptr;
    ConfigureFn m_configure = nullptr;
    GetConfigurationFn m_get_configuration = nullptr;
    LaunchInteractiveFn m_launch_interactive = nullptr;
    LaunchFn m_launch = nullptr;
};

std::uint32_t DllWslApi::launch(
    const std::string& name,
    const std::string& command,
    bool use_cwd,
    const std::optional<std::string>& stdin_data,
    WslApiOutput& out)
{
    // WSL duplicates the three handles into its own process; ours are closed right after, so the
    // pipes report end of file when the Linux program exits.
    auto [in_read, in_write] = make_pipe();
    auto [out_read, out_write] = make_pipe();
    auto [err_read, err_write] = make_pipe();
    HANDLE process = nullptr;
    const HRESULT hr = m_launch(
        wide_name(name).c_str(),
        to_wide(command, "a command").c_str(),
        use_cwd ? TRUE : FALSE,
        in_read.get(),
        out_write.get(),
        err_write.get(),
        &process);
    if (FAILED(hr))
    {
        return static_cast<std::uint32_t>(hr);
    }
    const UniqueHandle child(process);
    in_read = UniqueHandle();
    out_write = UniqueHandle();
    err_write = UniqueHandle();
    auto writer = std::async(
        std::launch::async,
        [pipe = std::move(in_write), data = stdin_data.value_or(std::string())]() mutable
        { win32::write_pipe(std::move(pipe), data, "the input of a WSL process"); });
    auto out_reader = read_async(out_read.get());
    auto err_reader = read_async(err_read.get());
    ::WaitForSingleObject(child.get(), INFINITE);
    writer.get();
    out.out = out_reader.get();
    out.err = err_reader.get();
    DWORD code = 0;
    if (::GetExitCodeProcess(child.get(), &code) == 0)
    {
        win32::throw_last_error(fmt::format("waiting for a program in {}", name));
    }
    out.exit_code = code;
    return static_cast<std::uint32_t>(hr);
}

} // namespace

std::unique_ptr<WslApi> make_wsl_api()
{
    return std::make_unique<DllWslApi>();
}

} // namespace azl::launcher
