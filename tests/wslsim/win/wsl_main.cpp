// The simulator's wsl.exe: the verbs the launcher uses, with WSL's argument handling, messages,
// streams, encodings and exit codes (src/windows/common/WslClient.cpp in microsoft/WSL):
//   --install --from-file F [--name N] [--location L] [--no-launch] [--version V]
//   --import N L F [--vhd] [--version V]      --export N F [--format tar|tar.gz|tar.xz|vhd] [--vhd]
//   --unregister N   --terminate|-t N   --set-default|-s N   --shutdown   --set-version N V
//   --manage N --set-default-user U   --list|-l [--verbose|-v] [--quiet|-q] [--running] [--all]
//   --version|-v     and launches: [-d|--distribution N] [-u|--user U] [--cd DIR|~]
//                    [-e|--exec PROGRAM ARGS… | [--] COMMAND LINE]
// Its own messages go to stdout (PrintMessage's default), UTF-16LE without a BOM unless
// WSL_UTF8=1; its own failures print "MESSAGE\nError code: Wsl/…" and exit with -1; a launch
// exits with the Linux program's status.

#include "sim.hpp"

#include <shlobj.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>

namespace
{

using Json = nlohmann::json;
using namespace wslsim;

constexpr int kFailure = -1;

// wsl.exe's own output: the console gets text, a pipe or file gets UTF-16LE (or UTF-8 with
// WSL_UTF8=1) with CRLF line ends, as the CRT's _O_U16TEXT / _O_U8TEXT modes write it.
void print(std::wstring_view text, DWORD which = STD_OUTPUT_HANDLE)
{
    std::wstring crlf;
    for (const wchar_t c : text)
    {
        if (c == L'\n')
        {
            crlf += L'\r';
        }
        crlf += c;
    }
    crlf += L"\r\n";
    HANDLE h = ::GetStdHandle(which);
    DWORD mode = 0;
    DWORD n = 0;
    if (::GetConsoleMode(h, &mode) != 0)
    {
        ::WriteConsoleW(h, crlf.data(), static_cast<DWORD>(crlf.size()), &n, nullptr);
        return;
    }
    if (env(L"WSL_UTF8") == L"1")
    {
        const std::string bytes = narrow(crlf);
        ::WriteFile(h, bytes.data(), static_cast<DWORD>(bytes.size()), &n, nullptr);
        return;
    }
    ::WriteFile(h, crlf.data(), static_cast<DWORD>(crlf.size() * sizeof(wchar_t)), &n, nullptr);
}

void print_success()
{
    print(L"The operation completed successfully. ");
}

void check_fault(std::wstring_view verb, std::wstring_view context)
{
    if (auto hr = injected(verb))
    {
        throw WslError{*hr, {}, std::wstring(context)};
    }
}

// One argument of a raw command line, and where the rest of the line starts.
struct RawArg
{
    std::wstring value;
    std::size_t rest = 0;
};

// CommandLineToArgvW's rules for every argument but the program name; the first element only
// marks where the program name ends.
std::vector<RawArg> split(std::wstring_view line)
{
    std::vector<RawArg> out;
    std::size_t i = 0;
    // The program name: up to the closing quote, or the first blank.
    if (i < line.size() && line[i] == L'"')
    {
        const auto close = line.find(L'"', 1);
        i = close == std::wstring_view::npos ? line.size() : close + 1;
    }
    while (i < line.size() && line[i] != L' ' && line[i] != L'\t')
    {
        ++i;
    }
    out.push_back({L"", i}); // the program name's end: where a bare command line starts
    for (;;)
    {
        while (i < line.size() && (line[i] == L' ' || line[i] == L'\t'))
        {
            ++i;
        }
        if (i >= line.size())
        {
            break;
        }
        RawArg arg;
        bool quoted = false;
        while (i < line.size() && (quoted || (line[i] != L' ' && line[i] != L'\t')))
        {
            if (line[i] == L'\\')
            {
                std::size_t n = 0;
                while (i < line.size() && line[i] == L'\\')
                {
                    ++n;
                    ++i;
                }
                if (i < line.size() && line[i] == L'"')
                {
                    arg.value.append(n / 2, L'\\');
                    if (n % 2 == 1)
                    {
                        arg.value += L'"';
                        ++i;
                    }
                }
                else
                {
                    arg.value.append(n, L'\\');
                }
            }
            else if (line[i] == L'"')
            {
                if (quoted && i + 1 < line.size() && line[i + 1] == L'"')
                {
                    arg.value += L'"';
                    i += 2;
                    continue;
                }
                quoted = !quoted;
                ++i;
            }
            else
            {
                arg.value += line[i++];
            }
        }
        arg.rest = i;
        out.push_back(std::move(arg));
    }
    return out;
}

[[noreturn]] void usage_error(std::wstring_view argument)
{
    throw WslError{
        static_cast<HRESULT>(0x80040309),
        L"Invalid command line argument: " + std::wstring(argument)
            + L"\nPlease use 'wsl.exe --help' to get a list of supported arguments.",
        {}};
}

std::wstring arg_at(const std::vector<RawArg>& args, std::size_t i, std::wstring_view option)
{
    if (i >= args.size())
    {
        throw WslError{
            static_cast<HRESULT>(0x80040309),
            L"Argument " + std::wstring(option) + L" is missing a required parameter.",
            {}};
    }
    return args[i].value;
}

std::wstring full_path(const std::wstring& path)
{
    std::array<wchar_t, 32768> buf{};
    const DWORD n =
        ::GetFullPathNameW(path.c_str(), static_cast<DWORD>(buf.size()), buf.data(), nullptr);
    return n != 0 ? std::wstring(buf.data(), n) : path;
}

std::wstring local_app_data()
{
    PWSTR raw = nullptr;
    ::SHGetKnownFolderPath(FOLDERID_LocalAppData, 0, nullptr, &raw);
    std::wstring out = raw != nullptr ? raw : L"C:\\";
    ::CoTaskMemFree(raw);
    return out;
}

bool is_vhd(const std::wstring& path)
{
    const auto dot = path.rfind(L'.');
    if (dot == std::wstring::npos)
    {
        return false;
    }
    std::wstring ext = path.substr(dot);
    std::transform(ext.begin(), ext.end(), ext.begin(), ::towlower);
    return ext == L".vhd" || ext == L".vhdx";
}

HostStreams std_streams(bool input)
{
    HostStreams s{
        .in = input ? ::GetStdHandle(STD_INPUT_HANDLE) : nullptr,
        .out = ::GetStdHandle(STD_OUTPUT_HANDLE),
        .err = ::GetStdHandle(STD_ERROR_HANDLE),
        .console = false,
    };
    DWORD mode = 0;
    s.console = input && ::GetConsoleMode(s.in, &mode) != 0;
    return s;
}

// RegisterDistribution in LxssUserSession.cpp: the key in the Installing state, the folder, the
// import, then the key completed (or everything removed again).
Distro register_distribution(
    Registry& registry,
    const std::optional<std::wstring>& name,
    const std::optional<std::wstring>& location,
    const std::wstring& file,
    bool run_oobe,
    bool vhd_file = false)
{
    constexpr const wchar_t* kContext = L"Service/RegisterDistro";
    if (name && !valid_name(*name))
    {
        throw WslError{
            static_cast<HRESULT>(0x80070057),
            L"Invalid distribution name: \"" + *name + L"\".",
            kContext};
    }
    if (name && registry.find(*name))
    {
        throw WslError{static_cast<HRESULT>(0x800700b7), {}, kContext};
    }
    Distro distro = registry.create(name.value_or(L""), L"", run_oobe);
    const std::wstring base =
        location ? full_path(*location) : local_app_data() + L"\\wsl\\" + distro.guid;
    registry.set_string(distro.guid, L"BasePath", base);
    distro.base_path = base;
    const bool created = ::SHCreateDirectoryExW(nullptr, base.c_str(), nullptr) == ERROR_SUCCESS;
    const std::wstring vhd = base + L"\\ext4.vhdx";
    bool imported = false;
    const auto undo = [&]
    {
        if (imported)
        {
            host_capture({{"op", "unregister"}, {"id", narrow(distro.guid)}});
        }
        ::DeleteFileW(vhd.c_str());
        if (created)
        {
            ::RemoveDirectoryW(base.c_str());
        }
        registry.remove(distro);
    };
    try
    {
        check_fault(L"import-step", kContext); // a failure after the key exists: rollback tested
        std::vector<Json> replies;
        const int status = host_call(
            {{"op", "import"},
             {"id", narrow(distro.guid)},
             {"file", unix_path(file)},
             {"vhd", vhd_file}},
            {nullptr, nullptr, ::GetStdHandle(STD_ERROR_HANDLE), false},
            &replies);
        if (status != 0)
        {
            throw WslError{static_cast<HRESULT>(0x8004030b), {}, kContext};
        }
        imported = true;
        const Json reply = replies.empty() ? Json::object() : replies.back();
        if (!reply.value("valid", false))
        {
            throw WslError{static_cast<HRESULT>(0x80040326), {}, kContext};
        }
        if (!name)
        {
            const auto default_name = reply.value("default_name", Json()).is_string()
                                          ? widen(reply["default_name"].get<std::string>())
                                          : std::wstring();
            if (default_name.empty())
            {
                throw WslError{static_cast<HRESULT>(0x80040330), {}, kContext};
            }
            if (!valid_name(default_name))
            {
                throw WslError{
                    static_cast<HRESULT>(0x80070057),
                    L"Invalid distribution name: \"" + default_name + L"\".",
                    kContext};
            }
            if (registry.find(default_name))
            {
                throw WslError{static_cast<HRESULT>(0x800700b7), {}, kContext};
            }
            registry.set_string(distro.guid, L"DistributionName", default_name);
            distro.name = default_name;
        }
        if (const auto flavor = reply.value("flavor", std::string()); !flavor.empty())
        {
            registry.set_string(distro.guid, L"Flavor", widen(flavor));
        }
        if (const auto version = reply.value("os_version", std::string()); !version.empty())
        {
            registry.set_string(distro.guid, L"OsVersion", widen(version));
        }
        registry.set_dword(distro.guid, L"Modern", 1);
        // The disk WSL creates at BasePath. The simulator's root file system is kept by
        // wslsim-host; this file records where.
        HANDLE h = ::CreateFileW(
            vhd.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
        if (h != INVALID_HANDLE_VALUE)
        {
            const std::string text = "wslsim: the root file system of this distribution is the "
                                     "sandbox distribution wslsim-"
                                     + narrow(distro.guid) + "\n";
            DWORD n = 0;
            ::WriteFile(h, text.data(), static_cast<DWORD>(text.size()), &n, nullptr);
            ::CloseHandle(h);
        }
        registry.mark_installed(distro);
        distro.state = kStateInstalled;
        return distro;
    }
    catch (...)
    {
        undo();
        throw;
    }
}

int install(Registry& registry, const std::vector<RawArg>& args)
{
    std::optional<std::wstring> from;
    std::optional<std::wstring> name;
    std::optional<std::wstring> location;
    bool no_launch = false;
    for (std::size_t i = 1; i < args.size(); ++i)
    {
        const std::wstring& a = args[i].value;
        if (a == L"--from-file" || a == L"-f")
        {
            from = arg_at(args, ++i, a);
        }
        else if (a == L"--name")
        {
            name = arg_at(args, ++i, a);
        }
        else if (a == L"--location")
        {
            location = arg_at(args, ++i, a);
        }
        else if (a == L"--no-launch" || a == L"-n")
        {
            no_launch = true;
        }
        else if (a == L"--version")
        {
            arg_at(args, ++i, a);
        }
        else
        {
            usage_error(a);
        }
    }
    if (!from)
    {
        throw WslError{
            static_cast<HRESULT>(0x80070057),
            L"wslsim: installing from the online catalogue is not simulated; use --from-file",
            {}};
    }
    check_fault(L"install", L"Service/RegisterDistro");
    if (::GetFileAttributesW(from->c_str()) == INVALID_FILE_ATTRIBUTES)
    {
        throw WslError{HRESULT_FROM_WIN32(::GetLastError()), {}, {}};
    }
    print(L"Installing: " + *from);
    const Distro distro = register_distribution(registry, name, location, *from, true);
    print(
        L"Distribution successfully installed. It can be launched via 'wsl.exe -d " + distro.name
        + L"'");
    if (no_launch)
    {
        return 0;
    }
    print(L"Launching " + distro.name + L"...");
    return launch(registry, distro, Json::object(), std_streams(true));
}

int import(Registry& registry, const std::vector<RawArg>& args)
{
    std::vector<std::wstring> positional;
    bool vhd = false;
    for (std::size_t i = 1; i < args.size(); ++i)
    {
        const std::wstring& a = args[i].value;
        if (a == L"--vhd")
        {
            vhd = true;
        }
        else if (a == L"--version")
        {
            arg_at(args, ++i, a);
        }
        else
        {
            positional.push_back(a);
        }
    }
    if (positional.size() != 3)
    {
        throw WslError{static_cast<HRESULT>(0x80070057), {}, {}};
    }
    check_fault(L"import", L"Service/RegisterDistro");
    const std::wstring location = full_path(positional[1]);
    const std::wstring& file = positional[2];
    // The install folder: created if missing (one level, as CreateDirectoryW), removed again on
    // failure when it was created here.
    bool created = true;
    if (::CreateDirectoryW(location.c_str(), nullptr) == 0)
    {
        const DWORD error = ::GetLastError();
        if (error != 183) // ERROR_ALREADY_EXISTS
        {
            throw WslError{HRESULT_FROM_WIN32(error), {}, {}};
        }
        created = false;
    }
    try
    {
        if (!vhd && is_vhd(file))
        {
            print(L"This looks like a VHD file. Use --vhd to import a VHD instead of a tar.");
            if (created)
            {
                ::RemoveDirectoryW(location.c_str());
            }
            return kFailure;
        }
        if (::GetFileAttributesW(file.c_str()) == INVALID_FILE_ATTRIBUTES)
        {
            throw WslError{HRESULT_FROM_WIN32(::GetLastError()), {}, {}};
        }
        print(L"Import in progress, this may take a few minutes.");
        register_distribution(registry, positional[0], location, file, false, vhd);
    }
    catch (...)
    {
        if (created)
        {
            ::RemoveDirectoryW(location.c_str());
        }
        throw;
    }
    print_success();
    return 0;
}

int export_distribution(Registry& registry, const std::vector<RawArg>& args)
{
    std::vector<std::wstring> positional;
    std::wstring format = L"tar";
    for (std::size_t i = 1; i < args.size(); ++i)
    {
        const std::wstring& a = args[i].value;
        if (a == L"--vhd")
        {
            format = L"vhd";
        }
        else if (a == L"--format")
        {
            format = arg_at(args, ++i, a);
            if (format != L"tar" && format != L"tar.gz" && format != L"tar.xz" && format != L"vhd")
            {
                throw WslError{static_cast<HRESULT>(0x80070057), {}, {}};
            }
        }
        else
        {
            positional.push_back(a);
        }
    }
    if (positional.size() != 2)
    {
        throw WslError{static_cast<HRESULT>(0x80040309), {}, {}};
    }
    const std::wstring& file = positional[1];
    HANDLE h = ::CreateFileW(
        file.c_str(),
        GENERIC_WRITE,
        FILE_SHARE_READ | FILE_SHARE_DELETE,
        nullptr,
        CREATE_ALWAYS,
        FILE_ATTRIBUTE_NORMAL,
        nullptr);
    if (h == INVALID_HANDLE_VALUE)
    {
        throw WslError{HRESULT_FROM_WIN32(::GetLastError()), {}, {}};
    }
    ::CloseHandle(h);
    try
    {
        const Distro distro = require(registry, positional[0]);
        check_fault(L"export", L"Service/ExportDistro");
        print(L"Export in progress, this may take a few minutes.");
        const int status = host_call(
            {{"op", "export"},
             {"id", narrow(distro.guid)},
             {"file", unix_path(file)},
             {"format", narrow(format)}},
            {nullptr, nullptr, ::GetStdHandle(STD_ERROR_HANDLE), false},
            nullptr);
        if (status != 0)
        {
            throw WslError{static_cast<HRESULT>(0x8004030a), {}, L"Service/ExportDistro"};
        }
    }
    catch (...)
    {
        ::DeleteFileW(file.c_str()); // WSL deletes the target of a failed export
        throw;
    }
    print_success();
    return 0;
}

int unregister(Registry& registry, const std::vector<RawArg>& args)
{
    const std::wstring name = arg_at(args, 1, L"--unregister");
    print(L"Unregistering.");
    Distro distro = require(registry, name);
    check_fault(L"unregister", L"Service/UnregisterDistro");
    registry.set_dword(distro.guid, L"State", kStateUninstalling);
    const Captured c = host_capture({{"op", "unregister"}, {"id", narrow(distro.guid)}});
    if (c.status != 0)
    {
        registry.set_dword(distro.guid, L"State", kStateInstalled);
        throw WslError{E_FAIL, widen(c.err), L"Service/UnregisterDistro"};
    }
    const std::wstring vhd = distro.base_path + L"\\ext4.vhdx";
    ::DeleteFileW(vhd.c_str());
    ::RemoveDirectoryW(distro.base_path.c_str()); // only when empty, as WSL does
    registry.remove(distro);
    print_success();
    return 0;
}

int terminate(Registry& registry, const std::vector<RawArg>& args)
{
    const Distro distro = require(registry, arg_at(args, 1, args[0].value));
    check_fault(L"terminate", L"Service/TerminateDistro");
    host_capture({{"op", "terminate"}, {"id", narrow(distro.guid)}});
    print_success();
    return 0;
}

int shutdown(Registry& registry)
{
    check_fault(L"shutdown", L"Service");
    for (const auto& guid : running_guids())
    {
        for (const auto& d : registry.distros())
        {
            if (_wcsicmp(d.guid.c_str(), guid.c_str()) == 0)
            {
                host_capture({{"op", "terminate"}, {"id", narrow(d.guid)}});
            }
        }
    }
    return 0;
}

int list(Registry& registry, const std::vector<RawArg>& args)
{
    bool verbose = false;
    bool quiet = false;
    bool running_only = false;
    bool all = false;
    for (std::size_t i = 1; i < args.size(); ++i)
    {
        const std::wstring& a = args[i].value;
        if (a == L"--verbose" || a == L"-v")
        {
            verbose = true;
        }
        else if (a == L"--quiet" || a == L"-q")
        {
            quiet = true;
        }
        else if (a == L"--running")
        {
            running_only = true;
        }
        else if (a == L"--all")
        {
            all = true;
        }
        else
        {
            usage_error(a);
        }
    }
    if ((quiet && verbose) || (all && running_only))
    {
        throw WslError{static_cast<HRESULT>(0x80040309), {}, {}};
    }
    check_fault(L"list", L"Service/EnumerateDistros");
    auto distros = registry.distros(true);
    const auto default_guid = registry.default_guid();
    const auto is_default = [&](const Distro& d)
    { return default_guid && _wcsicmp(d.guid.c_str(), default_guid->c_str()) == 0; };
    std::stable_sort(
        distros.begin(),
        distros.end(),
        [&](const Distro& a, const Distro& /*b*/) { return is_default(a); });
    const auto running = distros.empty() ? std::vector<std::wstring>() : running_guids();
    const auto is_running = [&](const Distro& d)
    {
        return std::any_of(
            running.begin(),
            running.end(),
            [&](const std::wstring& g) { return _wcsicmp(g.c_str(), d.guid.c_str()) == 0; });
    };
    if (verbose)
    {
        if (distros.empty())
        {
            throw WslError{static_cast<HRESULT>(0x80040301), {}, {}};
        }
        std::size_t width = 4; // "NAME"
        for (const auto& d : distros)
        {
            width = std::max(width, d.name.size());
        }
        const auto row = [&](std::wstring_view mark,
                             std::wstring_view name,
                             std::wstring_view state,
                             std::wstring_view version)
        {
            std::wstring line(mark);
            line += L' ';
            line += name;
            line.append(width + 4 - name.size(), L' ');
            line += state;
            line.append(state.size() < 16 ? 16 - state.size() : 0, L' ');
            line += version;
            return line;
        };
        std::wstring text = row(L" ", L"NAME", L"STATE", L"VERSION");
        for (const auto& d : distros)
        {
            std::wstring_view state = L"Stopped";
            if (d.state == kStateInstalling)
            {
                state = L"Installing";
            }
            else if (d.state == kStateUninstalling)
            {
                state = L"Uninstalling";
            }
            else if (is_running(d))
            {
                state = L"Running";
            }
            text += L"\n"
                    + row(
                        is_default(d) ? L"*" : L" ",
                        d.name,
                        state,
                        (d.flags & kFlagVmMode) != 0 ? L"2" : L"1");
        }
        print(text);
        return 0;
    }
    if (running_only)
    {
        std::erase_if(distros, [&](const Distro& d) { return !is_running(d); });
        if (!quiet && distros.empty())
        {
            print(L"There are no running distributions.");
            return kFailure;
        }
    }
    if (!all)
    {
        std::erase_if(distros, [](const Distro& d) { return d.state != kStateInstalled; });
    }
    if (!quiet)
    {
        if (distros.empty())
        {
            throw WslError{static_cast<HRESULT>(0x80040301), {}, {}};
        }
        print(L"Windows Subsystem for Linux Distributions:");
    }
    for (const auto& d : distros)
    {
        print(!quiet && is_default(d) ? d.name + L" (Default)" : d.name);
    }
    return 0;
}

int version()
{
    const std::wstring v = env(L"WSLSIM_VERSION").value_or(L"2.4.4.0");
    if (v == L"inbox")
    {
        usage_error(L"--version"); // the wsl.exe of Windows itself has no --version
    }
    print(
        L"WSL version: " + v
        + L"\nKernel version: 5.15.167.4-1\nWSLg version: 1.0.65\nMSRDC version: "
          L"1.2.5716\nDirect3D version: 1.611.1-81528511\nDXCore version: "
          L"10.0.26100.1-240331-1435.ge-release\nWindows version: 10.0.26100.2605");
    return 0;
}

int manage(Registry& registry, const std::vector<RawArg>& args)
{
    const std::wstring name = arg_at(args, 1, L"--manage");
    if (args.size() != 4 || args[2].value != L"--set-default-user")
    {
        throw WslError{static_cast<HRESULT>(0x80040309), {}, {}};
    }
    const Distro distro = require(registry, name);
    check_fault(L"manage", L"Service/ConfigureDistro");
    // WSL asks the distribution: `-u root /usr/bin/id -u -- 'USER'`, and takes its exit code.
    const Captured c = host_capture(
        {{"op", "launch"},
         {"id", narrow(distro.guid)},
         {"user", "root"},
         {"argv", {"/usr/bin/id", "-u", "--", narrow(args[3].value)}}});
    if (c.status != 0)
    {
        DWORD n = 0;
        ::WriteFile(
            ::GetStdHandle(STD_ERROR_HANDLE),
            c.err.data(),
            static_cast<DWORD>(c.err.size()),
            &n,
            nullptr);
        return c.status;
    }
    std::string out = c.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    {
        out.pop_back();
    }
    if (out.empty() || out.find_first_not_of("0123456789") != std::string::npos)
    {
        throw WslError{static_cast<HRESULT>(0x8007000D) /* ERROR_INVALID_DATA */, {}, {}};
    }
    registry.set_dword(distro.guid, L"DefaultUid", static_cast<DWORD>(std::stoul(out)));
    print_success();
    return 0;
}

int set_version(Registry& registry, const std::vector<RawArg>& args)
{
    const Distro distro = require(registry, arg_at(args, 1, L"--set-version"));
    const std::wstring v = arg_at(args, 2, L"--set-version");
    if (v != L"1" && v != L"2")
    {
        throw WslError{static_cast<HRESULT>(0x80070057), {}, {}};
    }
    check_fault(L"set-version", L"Service/SetVersion");
    const bool vm = v == L"2";
    if (((distro.flags & kFlagVmMode) != 0) == vm)
    {
        throw WslError{
            static_cast<HRESULT>(0x80040323),
            L"The distribution is already the requested version.",
            L"Service/SetVersion"};
    }
    print(L"Conversion in progress, this may take a few minutes.");
    registry.set_dword(
        distro.guid, L"Flags", vm ? distro.flags | kFlagVmMode : distro.flags & ~kFlagVmMode);
    print_success();
    return 0;
}

int run(
    Registry& registry,
    const std::wstring& line,
    std::size_t program_end,
    const std::vector<RawArg>& args)
{
    std::optional<Distro> distro;
    Json request = Json::object();
    std::optional<std::wstring> cwd;
    std::size_t i = 0;
    for (; i < args.size(); ++i)
    {
        const std::wstring& a = args[i].value;
        if (a == L"-d" || a == L"--distribution")
        {
            distro = require(registry, arg_at(args, ++i, L"--distribution"));
        }
        else if (a == L"-u" || a == L"--user")
        {
            request["user"] = narrow(arg_at(args, ++i, L"--user"));
        }
        else if (a == L"--cd")
        {
            cwd = arg_at(args, ++i, L"--cd");
        }
        else if (a == L"~" && i == 0)
        {
            cwd = L"~";
        }
        else if (a == L"-e" || a == L"--exec")
        {
            if (i + 1 >= args.size())
            {
                arg_at(args, i + 1, a);
            }
            Json argv = Json::array();
            for (std::size_t j = i + 1; j < args.size(); ++j)
            {
                argv.push_back(narrow(args[j].value));
            }
            request["argv"] = argv;
            break;
        }
        else if (a == L"--")
        {
            const std::size_t start = args[i].rest;
            request["command"] =
                narrow(std::wstring_view(line).substr(std::min(start + 1, line.size())));
            break;
        }
        else if (a.starts_with(L"-"))
        {
            usage_error(a);
        }
        else
        {
            // The rest of the line, as typed, is a command line for the shell.
            const std::size_t start = i == 0 ? program_end : args[i - 1].rest;
            std::wstring_view rest = std::wstring_view(line).substr(start);
            while (!rest.empty() && (rest.front() == L' ' || rest.front() == L'\t'))
            {
                rest.remove_prefix(1);
            }
            request["command"] = narrow(rest);
            break;
        }
    }
    if (!distro)
    {
        distro = registry.default_distro();
    }
    check_fault(L"launch", L"Service/CreateInstance");
    if (request.contains("user"))
    {
        const std::string user = request["user"].get<std::string>();
        if (user != "root" && user != "0")
        {
            const Captured c = host_capture(
                {{"op", "launch"},
                 {"id", narrow(distro->guid)},
                 {"user", "root"},
                 {"argv", {"/usr/bin/id", "-u", "--", user}}});
            if (c.status != 0)
            {
                throw WslError{static_cast<HRESULT>(0x80040308), {}, L"Service/CreateInstance"};
            }
        }
    }
    if (cwd)
    {
        if (*cwd != L"~")
        {
            const std::string guest = guest_path(*cwd);
            request["cwd"] = guest.empty() ? narrow(*cwd) : guest;
        }
    }
    else
    {
        // Without --cd: the Windows current directory, when the distribution can see it.
        std::array<wchar_t, 32768> here{};
        const DWORD n = ::GetCurrentDirectoryW(static_cast<DWORD>(here.size()), here.data());
        const std::string guest = guest_path(std::wstring(here.data(), n));
        if (!guest.empty())
        {
            request["cwd"] = guest;
        }
    }
    return launch(registry, *distro, std::move(request), std_streams(true));
}

int wsl_main()
{
    const std::wstring line = ::GetCommandLineW();
    const auto all = split(line);
    const std::size_t program_end = all.front().rest;
    const std::vector<RawArg> args(all.begin() + 1, all.end());
    {
        std::wstring logged = L"wsl.exe";
        for (const auto& a : args)
        {
            logged += L" " + a.value;
        }
        log_call(logged);
    }
    Registry registry;
    if (args.empty())
    {
        return run(registry, line, program_end, args);
    }
    const std::wstring& verb = args[0].value;
    if (verb == L"--install")
    {
        return install(registry, args);
    }
    if (verb == L"--import")
    {
        return import(registry, args);
    }
    if (verb == L"--export")
    {
        return export_distribution(registry, args);
    }
    if (verb == L"--unregister")
    {
        return unregister(registry, args);
    }
    if (verb == L"--terminate" || verb == L"-t")
    {
        return terminate(registry, args);
    }
    if (verb == L"--shutdown")
    {
        return shutdown(registry);
    }
    if (verb == L"--list" || verb == L"-l")
    {
        return list(registry, args);
    }
    if (verb == L"--version" || (verb == L"-v" && args.size() == 1))
    {
        return version();
    }
    if (verb == L"--manage")
    {
        return manage(registry, args);
    }
    if (verb == L"--set-version")
    {
        return set_version(registry, args);
    }
    if (verb == L"--set-default" || verb == L"-s")
    {
        registry.set_default(require(registry, arg_at(args, 1, verb)));
        print_success();
        return 0;
    }
    return run(registry, line, program_end, args);
}

} // namespace

int main()
{
    ::SetConsoleOutputCP(CP_UTF8);
    try
    {
        return wsl_main();
    }
    catch (const WslError& e)
    {
        // WslClient::Main: the message, then the error code, except for the two errors whose
        // message says everything (WSL_E_DEFAULT_DISTRO_NOT_FOUND, WSL_E_INVALID_USAGE).
        std::wstring text = e.message.empty() ? error_message(e.hr) : e.message;
        if (e.hr != static_cast<HRESULT>(0x80040301) && e.hr != static_cast<HRESULT>(0x80040309))
        {
            std::wstring code = L"Wsl/";
            if (!e.context.empty())
            {
                code += e.context + L"/";
            }
            text += L"\nError code: " + code + error_name(e.hr);
        }
        print(text);
        return kFailure;
    }
    catch (const std::exception& e)
    {
        print(L"wslsim: " + widen(e.what()));
        return kFailure;
    }
}
