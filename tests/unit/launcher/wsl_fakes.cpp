#include "wsl_fakes.hpp"

#include <azl/common/error.hpp>
#include <azl/launcher/shell_quote.hpp>
#include <azl/launcher/wsl_cli.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <stdexcept>

namespace azl::test
{

namespace fs = std::filesystem;
using launcher::path_to_utf8;
namespace wsl = launcher::wsl;

std::string utf16le(std::u16string_view text)
{
    std::string out;
    for (const char16_t c : text)
    {
        out += static_cast<char>(c & 0xFF);
        out += static_cast<char>(c >> 8);
    }
    return out;
}

namespace
{

std::u16string ascii16(std::string_view text)
{
    return {text.begin(), text.end()};
}

// wsl.exe's sentence for each error it reports (English Windows).
std::u16string wsl_message(std::string_view token)
{
    static const std::map<std::string_view, std::u16string_view> messages = {
        {"WSL_E_DISTRO_NOT_FOUND", u"There is no distribution with the supplied name."},
        {"ERROR_ALREADY_EXISTS",
         u"A distribution with the supplied name already exists. Use --name to choose a different "
         u"name."},
        {"ERROR_FILE_NOT_FOUND", u"The system cannot find the file specified."},
        {"WSL_E_USER_NOT_FOUND", u"User not found."},
        {"WSL_E_EXPORT_FAILED", u"The distribution export failed."},
        {"WSL_E_NOT_A_LINUX_DISTRO", u"The imported file is not a valid Linux distribution."},
        {"WSL_E_DEFAULT_DISTRO_NOT_FOUND",
         u"Windows Subsystem for Linux has no installed distributions."},
    };
    const auto it = messages.find(token);
    return it != messages.end() ? std::u16string(it->second) : u"Catastrophic failure";
}

// What wsl.exe does when it fails: its message and error code on stdout, UTF-16LE, exit -1.
ProcessResult wsl_failure(std::string_view area, std::string_view token)
{
    ProcessResult r;
    r.exit_code = -1;
    r.out = utf16le(
        wsl_message(token) + u"\r\nError code: Wsl/" + ascii16(area) + u"/" + ascii16(token)
        + u"\r\n");
    return r;
}

ProcessResult wsl_success(std::u16string_view text)
{
    ProcessResult r;
    r.out = utf16le(text);
    return r;
}

// The value following `flag` in args, if any.
std::optional<std::string> option(const std::vector<std::string>& args, std::string_view flag)
{
    const auto it = std::find(args.begin(), args.end(), flag);
    if (it == args.end() || it + 1 == args.end())
    {
        return std::nullopt;
    }
    return *(it + 1);
}

std::string guest_result_key(const std::vector<std::string>& argv)
{
    return launcher::shell_join(argv);
}

ProcessResult guest_run(FakeWsl& wsl, const std::string& command)
{
    const auto it = wsl.guest_commands.find(command);
    if (it != wsl.guest_commands.end())
    {
        return it->second;
    }
    ProcessResult r;
    r.exit_code = 127;
    r.err = fmt::format("sh: 1: {}: not found\n", command);
    return r;
}

} // namespace

std::string FakeWsl::next_guid()
{
    ++m_guids;
    return fmt::format("{{8f2a{:04x}-0c1d-4e6b-9a3b-5d7c1e2f{:04x}}}", m_guids, m_guids);
}

FakeWsl::Distro* FakeWsl::find(const std::string& name)
{
    for (auto& d : distros)
    {
        if (d.name == name)
        {
            return &d;
        }
    }
    return nullptr;
}

std::optional<std::uint32_t> FakeWsl::take_failure(const std::string& function)
{
    const auto it = fail_next.find(function);
    if (it == fail_next.end())
    {
        return std::nullopt;
    }
    const std::uint32_t hr = it->second;
    fail_next.erase(it);
    return hr;
}

// ----- wslapi.dll -----

std::optional<std::string> FakeWslApi::unavailable_reason()
{
    return m_wsl.dll_missing
               ? std::optional<std::string>("wslapi.dll is not in the System32 folder")
               : std::nullopt;
}

bool FakeWslApi::is_distribution_registered(const std::string& name)
{
    return m_wsl.find(name) != nullptr;
}

std::uint32_t FakeWslApi::register_distribution(const std::string& name, const fs::path& tar_gz)
{
    m_wsl.calls.push_back(
        fmt::format("WslRegisterDistribution({}, {})", name, path_to_utf8(tar_gz)));
    if (auto hr = m_wsl.take_failure("WslRegisterDistribution"))
    {
        return *hr;
    }
    if (m_wsl.find(name) != nullptr)
    {
        return wsl::kAlreadyExists;
    }
    if (!fs::is_regular_file(tar_gz))
    {
        return wsl::kFileNotFound;
    }
    // The classic API installs beside the calling executable and does not ask for first-run setup.
    m_wsl.distros.push_back(
        {.guid = m_wsl.next_guid(), .name = name, .base_path = R"(C:\Users\me\AzureLinux)"});
    return 0;
}

std::uint32_t FakeWslApi::unregister_distribution(const std::string& name)
{
    m_wsl.calls.push_back(fmt::format("WslUnregisterDistribution({})", name));
    if (auto hr = m_wsl.take_failure("WslUnregisterDistribution"))
    {
        return *hr;
    }
    const auto before = m_wsl.distros.size();
    std::erase_if(m_wsl.distros, [&](const auto& d) { return d.name == name; });
    return m_wsl.distros.size() == before ? wsl::kDistroNotFound : 0;
}

std::uint32_t FakeWslApi::configure_distribution(
    const std::string& name, std::uint32_t default_uid, std::uint32_t flags)
{
    m_wsl.calls.push_back(
        fmt::format("WslConfigureDistribution({}, {}, {:#x})", name, default_uid, flags));
    if (auto hr = m_wsl.take_failure("WslConfigureDistribution"))
    {
        return *hr;
    }
    auto* d = m_wsl.find(name);
    if (d == nullptr)
    {
        return wsl::kDistroNotFound;
    }
    if (flags > 7)
    {
        return wsl::kInvalidArg;
    }
    d->default_uid = default_uid;
    d->flags = flags;
    return 0;
}

std::uint32_t FakeWslApi::get_distribution_configuration(
    const std::string& name, launcher::WslApiConfiguration& out)
{
    m_wsl.calls.push_back(fmt::format("WslGetDistributionConfiguration({})", name));
    if (auto hr = m_wsl.take_failure("WslGetDistributionConfiguration"))
    {
        return *hr;
    }
    const auto* d = m_wsl.find(name);
    if (d == nullptr)
    {
        return wsl::kDistroNotFound;
    }
    // As WSL: the registry's Version (the file system's, 2 for every current distribution), and
    // WSL 2 as the LXSS_DISTRO_FLAGS_VM_MODE bit of the flags.
    out = {
        2,
        d->default_uid,
        d->flags | (d->version == 2 ? wsl::kVmModeFlag : 0U),
        {"HOSTTYPE=x86_64",
         "LANG=en_US.UTF-8",
         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games",
         "TERM=xterm-256color"}};
    return 0;
}

std::uint32_t FakeWslApi::launch_interactive(
    const std::string& name, const std::string& command, bool use_cwd, std::uint32_t& exit_code)
{
    m_wsl.calls.push_back(fmt::format(
        "WslLaunchInteractive({}, \"{}\", {})", name, command, use_cwd ? "TRUE" : "FALSE"));
    if (auto hr = m_wsl.take_failure("WslLaunchInteractive"))
    {
        return *hr;
    }
    if (m_wsl.find(name) == nullptr)
    {
        return wsl::kDistroNotFound;
    }
    exit_code = static_cast<std::uint32_t>(guest_run(m_wsl, command).exit_code);
    return 0;
}

std::uint32_t FakeWslApi::launch(
    const std::string& name,
    const std::string& command,
    bool use_cwd,
    const std::optional<std::string>& stdin_data,
    launcher::WslApiOutput& out)
{
    m_wsl.calls.push_back(fmt::format(
        "WslLaunch({}, \"{}\", {}, stdin={})",
        name,
        command,
        use_cwd ? "TRUE" : "FALSE",
        stdin_data ? fmt::format("\"{}\"", *stdin_data) : "NUL"));
    if (auto hr = m_wsl.take_failure("WslLaunch"))
    {
        return *hr;
    }
    if (m_wsl.find(name) == nullptr)
    {
        return wsl::kDistroNotFound;
    }
    const ProcessResult r = guest_run(m_wsl, command);
    out = {static_cast<std::uint32_t>(r.exit_code), r.out, r.err};
    return 0;
}

std::string FakeWslApi::describe(std::uint32_t hr)
{
    switch (hr)
    {
    case wsl::kFileNotFound:
        return "The system cannot find the file specified.";
    case wsl::kAccessDenied:
        return "Access is denied.";
    case wsl::kInvalidArg:
        return "The parameter is incorrect.";
    case wsl::kSubsystemNotPresent:
        return "The Windows Subsystem for Linux has not been enabled.";
    default:
        return "Unspecified error";
    }
}

// ----- wsl.exe, registry, files -----

std::optional<fs::path> FakeWslHost::wsl_exe()
{
    if (m_wsl.wsl_exe_missing)
    {
        return std::nullopt;
    }
    return launcher::path_from_utf8(kWslExe);
}

ProcessResult FakeWslHost::run(const std::vector<std::string>& argv, const ProcessOptions& options)
{
    m_wsl.calls.push_back(windows_command_line(argv));
    if (argv.empty() || argv.front() != kWslExe)
    {
        throw std::logic_error("the WSL backend ran something else than wsl.exe: " + argv.front());
    }
    if (options.stdout_mode == Stream::inherit && options.stdin_data)
    {
        throw std::logic_error("an interactive launch with stdin data");
    }
    return wsl_exe_run({argv.begin() + 1, argv.end()}, options);
}

ProcessResult
FakeWslHost::wsl_exe_run(const std::vector<std::string>& args, const ProcessOptions& options)
{
    const std::string verb = args.empty() ? std::string() : args.front();
    if (const auto it = m_wsl.fail_wsl_exe.find(verb); it != m_wsl.fail_wsl_exe.end())
    {
        const std::string token = it->second;
        m_wsl.fail_wsl_exe.erase(it);
        if (verb == "--export")
        {
            std::ofstream(args.at(2)) << "partial"; // WSL had started writing
        }
        return wsl_failure("Service", token);
    }
    if (verb == "--version")
    {
        if (m_wsl.wsl_version.empty())
        {
            ProcessResult r =
                wsl_success(u"Copyright (c) Microsoft Corporation. All rights reserved.\r\n\r\n"
                            u"Usage: wsl.exe [Argument] [Options...] [CommandLine]\r\n");
            r.exit_code = -1;
            return r;
        }
        return wsl_success(
            u"WSL version: " + ascii16(m_wsl.wsl_version)
            + u"\r\nKernel version: 5.15.167.4-1\r\nWSLg version: 1.0.65\r\n"
              u"Windows version: 10.0.22631.4460\r\n");
    }
    if (verb == "--list")
    {
        if (m_wsl.distros.empty())
        {
            return wsl_failure("Service", "WSL_E_DEFAULT_DISTRO_NOT_FOUND");
        }
        std::u16string table = u"  NAME              STATE           VERSION\r\n";
        for (const auto& d : m_wsl.distros)
        {
            // Registry GUIDs compare without regard to case.
            const bool is_default =
                m_wsl.default_guid
                && std::equal(
                    m_wsl.default_guid->begin(),
                    m_wsl.default_guid->end(),
                    d.guid.begin(),
                    d.guid.end(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); });
            std::u16string row = is_default ? u"* " : u"  ";
            row +=
                ascii16(d.name) + std::u16string(d.name.size() < 18 ? 18 - d.name.size() : 1, u' ');
            row += d.running ? u"Running         " : u"Stopped         ";
            row += ascii16(std::to_string(d.version)) + u"\r\n";
            table += row;
        }
        return wsl_success(table);
    }
    if (verb == "--install" || verb == "--import")
    {
        const bool import = verb == "--import";
        const std::string name = import ? args.at(1) : option(args, "--name").value();
        const std::string file = import ? args.at(3) : option(args, "--from-file").value();
        if (!fs::is_regular_file(launcher::path_from_utf8(file)))
        {
            return wsl_failure("Service/RegisterDistro", "ERROR_FILE_NOT_FOUND");
        }
        if (m_wsl.find(name) != nullptr)
        {
            return wsl_failure("Service/RegisterDistro", "ERROR_ALREADY_EXISTS");
        }
        const std::string guid = m_wsl.next_guid();
        const std::string base =
            import
                ? args.at(2)
                : option(args, "--location").value_or(R"(C:\Users\me\AppData\Local\wsl\)" + guid);
        // --install --from-file of an image with an [oobe] command asks for first-run setup.
        m_wsl.distros.push_back(
            {.guid = guid, .name = name, .base_path = base, .run_oobe = !import});
        return wsl_success(u"The operation completed successfully.\r\n");
    }
    const std::string name = args.size() > 1 ? args.at(1) : std::string();
    const bool distribution_verb = verb == "--export" || verb == "--terminate" || verb == "--manage"
                                   || verb == "--set-version" || verb == "--distribution";
    if (!distribution_verb)
    {
        throw std::logic_error("the fake wsl.exe does not know " + verb);
    }
    FakeWsl::Distro* d = m_wsl.find(name);
    if (d == nullptr)
    {
        return wsl_failure("Service", "WSL_E_DISTRO_NOT_FOUND");
    }
    if (verb == "--export")
    {
        std::ofstream(args.at(2)) << "export of " << name << " as " << args.at(4);
        return wsl_success(u"Export in progress, this may take a few minutes.\r\n");
    }
    if (verb == "--terminate")
    {
        d->running = false;
        return wsl_success(u"The operation completed successfully.\r\n");
    }
    if (verb == "--manage")
    {
        const auto user = m_wsl.users.find(option(args, "--set-default-user").value());
        if (user == m_wsl.users.end())
        {
            return wsl_failure("Service", "WSL_E_USER_NOT_FOUND");
        }
        d->default_uid = user->second;
        return wsl_success(u"The operation completed successfully.\r\n");
    }
    if (verb == "--set-version")
    {
        d->version = static_cast<unsigned>(std::stoul(args.at(2)));
        return wsl_success(u"The operation completed successfully.\r\n");
    }
    // --distribution NAME [--user U] --cd DIR [--exec ARGV…]
    if (const auto user = option(args, "--user"); user && !m_wsl.users.contains(*user))
    {
        return wsl_failure("Service/CreateInstance", "WSL_E_USER_NOT_FOUND");
    }
    const auto exec = std::find(args.begin(), args.end(), "--exec");
    const std::vector<std::string> argv = exec == args.end()
                                              ? std::vector<std::string>{}
                                              : std::vector<std::string>(exec + 1, args.end());
    d->running = true;
    ProcessResult r = guest_run(m_wsl, guest_result_key(argv));
    if (options.stdin_data)
    {
        r.out += "stdin:" + *options.stdin_data;
    }
    return r;
}

launcher::LxssRegistry FakeWslHost::lxss()
{
    launcher::LxssRegistry reg;
    reg.default_guid = m_wsl.default_guid;
    for (const auto& d : m_wsl.distros)
    {
        reg.entries.push_back(
            {.guid = d.guid,
             .name = d.name,
             .base_path = launcher::path_from_utf8(d.base_path),
             .version = d.version,
             .default_uid = d.default_uid,
             .run_oobe = d.run_oobe,
             .state = 1});
    }
    return reg;
}

void FakeWslHost::set_run_oobe(const std::string& guid, bool pending)
{
    m_wsl.calls.push_back(
        fmt::format("RegSetValueExW(Lxss\\{}, RunOOBE, {})", guid, pending ? 1 : 0));
    if (m_wsl.registry_read_only)
    {
        throw SystemError("recording first-run setup", "Access is denied.");
    }
    for (auto& d : m_wsl.distros)
    {
        if (d.guid == guid)
        {
            d.run_oobe = pending;
            return;
        }
    }
    throw SystemError("recording first-run setup", fmt::format("registry key {} is gone", guid));
}

std::string FakeWslHost::sha256_file(const fs::path& file, ProgressMode /*progress*/)
{
    std::ifstream in(file, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    {
        throw std::runtime_error("EVP_Digest failed");
    }
    std::string hex;
    for (unsigned int i = 0; i < len; ++i)
    {
        hex += fmt::format("{:02x}", md.at(i));
    }
    return hex;
}

fs::path FakeWslHost::default_import_location(const std::string& name)
{
    return launcher::path_from_utf8(R"(C:\Users\me\AppData\Local\wsl\)" + name);
}

fs::path FakeWslHost::absolute_path(const fs::path& path)
{
    const std::string text = path_to_utf8(path);
    if (text.size() > 2 && text[1] == ':')
    {
        return path;
    }
    return launcher::path_from_utf8(R"(C:\Users\me\)" + text);
}

void FakeWslHost::create_parent_directories(const fs::path& path)
{
    const std::string text = path_to_utf8(path);
    m_wsl.calls.push_back("SHCreateDirectoryExW(" + text.substr(0, text.rfind('\\')) + ")");
}

void FakeWslHost::move_replace(const fs::path& from, const fs::path& to)
{
    fs::rename(from, to);
}

ProcessResult guest_result(int exit_code, std::string out, std::string err)
{
    ProcessResult r;
    r.exit_code = exit_code;
    r.out = std::move(out);
    r.err = std::move(err);
    return r;
}

launcher::InstallSpec install_spec(const std::string& name, const fs::path& image)
{
    launcher::InstallSpec spec;
    spec.name = name;
    spec.image = image;
    return spec;
}

std::unique_ptr<launcher::WslBackend> make_fake_backend(FakeWsl& wsl)
{
    return std::make_unique<launcher::WslBackend>(
        std::make_unique<FakeWslApi>(wsl), std::make_unique<FakeWslHost>(wsl));
}

} // namespace azl::test
