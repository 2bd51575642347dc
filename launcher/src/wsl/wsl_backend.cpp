#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/common/scope_guard.hpp>
#include <azl/common/text.hpp>
#include <azl/launcher/commands.hpp>
#include <azl/launcher/shell_quote.hpp>
#include <azl/launcher/wsl_backend.hpp>
#include <azl/launcher/wsl_cli.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace azl::launcher
{

namespace fs = std::filesystem;
using wsl::Operation;

namespace
{

// WSL compares distribution names case-insensitively; they are ASCII.
bool same_name(std::string_view a, std::string_view b)
{
    return ascii_iequals(a, b);
}

std::string trimmed(std::string_view s)
{
    return std::string(trim(s));
}

ProcessOptions captured()
{
    ProcessOptions options;
    options.stdin_mode = Stream::null;
    options.stdout_mode = Stream::capture;
    options.stderr_mode = Stream::capture;
    return options;
}

// wsl.exe's own failures exit with -1 and name an error code; a guest program's exit code is 0-255.
bool is_wsl_exe_failure(const ProcessResult& result)
{
    return result.exit_code == -1
           && wsl::error_code_token(wsl::decode_wsl_output(result.out + result.err)).has_value();
}

} // namespace

WslBackend::WslBackend(std::unique_ptr<WslApi> api, std::unique_ptr<WslHost> host)
    : m_api(std::move(api))
    , m_host(std::move(host))
{
}

WslApi& WslBackend::api()
{
    if (auto why = m_api->unavailable_reason())
    {
        throw wsl::wsl_missing(*why);
    }
    return *m_api;
}

fs::path WslBackend::wsl_exe()
{
    auto exe = m_host->wsl_exe();
    if (!exe)
    {
        throw wsl::wsl_missing("wsl.exe is not in the System32 folder");
    }
    return *exe;
}

std::string WslBackend::run_wsl(const std::vector<std::string>& args, const Operation& operation)
{
    std::vector<std::string> argv = {path_to_utf8(wsl_exe())};
    argv.insert(argv.end(), args.begin(), args.end());
    logger("wsl")->debug("running {}", shell_join(argv));
    const ProcessResult result = m_host->run(argv, captured());
    logger("wsl")->debug("wsl.exe exited with {}", result.exit_code);
    if (!result.ok())
    {
        // wsl.exe writes its messages to stdout, some to stderr: look at both.
        wsl::throw_wsl_exe_failure(
            result.exit_code, wsl::decode_wsl_output(result.out + result.err), operation);
    }
    return wsl::decode_wsl_output(result.out);
}

std::string WslBackend::wsl_version()
{
    if (!m_version)
    {
        // The inbox wsl.exe of older Windows has no --version: it prints its usage and fails.
        ProcessOptions options = captured();
        options.timeout = std::chrono::seconds(60);
        const ProcessResult result = m_host->run({path_to_utf8(wsl_exe()), "--version"}, options);
        m_version =
            result.ok()
                ? wsl::parse_wsl_version(wsl::decode_wsl_output(result.out)).value_or(std::string())
                : std::string();
    }
    return *m_version;
}

void WslBackend::require_registered(const std::string& name)
{
    if (!api().is_distribution_registered(name))
    {
        wsl::throw_hresult(wsl::kDistroNotFound, {.doing = "using", .name = name}, {});
    }
}

std::optional<LxssEntry> WslBackend::lxss_entry(const std::string& name)
{
    for (auto& entry : m_host->lxss().entries)
    {
        if (same_name(entry.name, name))
        {
            return std::move(entry);
        }
    }
    return std::nullopt;
}

EngineInfo WslBackend::engine()
{
    EngineInfo info;
    info.name = "WSL";
    if (auto why = m_api->unavailable_reason())
    {
        info.problem = wsl::wsl_missing(*why).what();
        return info;
    }
    if (!m_host->wsl_exe())
    {
        info.problem = "wsl.exe is not in the System32 folder: reinstall WSL with `wsl --install`";
        return info;
    }
    info.version = wsl_version();
    info.usable = true;
    if (!wsl::version_at_least(info.version.empty() ? "0" : info.version, wsl::kModernWslVersion))
    {
        info.problem = fmt::format(
            "WSL {} is older than {}: images are installed the classic way, without Start menu "
            "and Terminal entries; update it with `wsl --update`",
            info.version.empty() ? "(Windows' built-in)" : info.version,
            wsl::kModernWslVersion);
    }
    return info;
}

bool WslBackend::is_registered(const std::string& name)
{
    return api().is_distribution_registered(name);
}

std::vector<DistroInfo> WslBackend::list()
{
    api(); // without WSL, "no distributions" would hide what is wrong
    const LxssRegistry registry = m_host->lxss();
    if (registry.entries.empty())
    {
        return {}; // wsl --list then only prints "no installed distributions" and fails
    }
    const auto rows = wsl::parse_list_verbose(
        run_wsl(wsl::list_verbose_args(), {.doing = "listing", .name = "distributions"}));
    std::vector<DistroInfo> out;
    for (const LxssEntry& entry : registry.entries)
    {
        DistroInfo info{
            .name = entry.name,
            .version = entry.version,
            .location = entry.base_path,
            .default_uid = entry.default_uid,
            .default_user =
                entry.default_uid == 0 ? std::optional<std::string>("root") : std::nullopt,
            .is_default =
                registry.default_guid && ascii_iequals(*registry.default_guid, entry.guid),
            .setup_pending = entry.run_oobe,
        };
        const auto row = std::find_if(
            rows.begin(), rows.end(), [&](const auto& r) { return same_name(r.name, entry.name); });
        if (row != rows.end())
        {
            // A state word we cannot read (a localised Windows) is shown as WSL printed it in
            // the log; such a distribution counts as stopped.
            if (!row->state)
            {
                logger("launcher")
                    ->debug("unknown WSL state \"{}\" of {}", row->state_text, row->name);
            }
            info.state = row->state.value_or(DistroState::stopped);
            info.version = row->version;
            info.is_default = info.is_default || row->is_default;
        }
        out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

void WslBackend::remove_failed_install(const std::string& name)
{
    // WSL removes what it half-registered itself; this catches a registration that succeeded
    // before a later step failed. Best effort: the original error is what the user must see.
    try
    {
        if (m_api->is_distribution_registered(name))
        {
            m_api->unregister_distribution(name);
        }
    }
    catch (const std::exception& e)
    {
        logger("launcher")->warn("could not remove the half-installed {}: {}", name, e.what());
    }
}

void WslBackend::install(const InstallSpec& spec)
{
    validate_name(spec.name);
    const Operation op{
        .doing = "installing", .name = spec.name, .detail = path_to_utf8(spec.image)};
    std::error_code ec;
    if (!fs::is_regular_file(spec.image, ec))
    {
        throw UserError(
            fmt::format("cannot install {}: {} not found", spec.name, path_to_utf8(spec.image)),
            "give the path of a .wsl image or a backup with --from");
    }
    if (api().is_distribution_registered(spec.name))
    {
        wsl::throw_hresult(wsl::kAlreadyExists, op, {});
    }
    if (spec.sha256)
    {
        const std::string actual = m_host->sha256_file(spec.image, spec.progress);
        if (actual != ascii_lower(*spec.sha256))
        {
            throw UserError(
                fmt::format(
                    "{}: SHA-256 is {}, expected {}",
                    path_to_utf8(spec.image),
                    actual,
                    *spec.sha256),
                "the file is damaged or not the published one: download it again");
        }
    }
    ScopeGuard undo([&] { remove_failed_install(spec.name); });
    if (spec.kind == InstallKind::backup)
    {
        const fs::path location =
            spec.location.value_or(m_host->default_import_location(spec.name));
        // `wsl --import` creates the folder but not its parents (CreateDirectoryW), unlike
        // `--install --location`; %LOCALAPPDATA%\wsl exists only after a modern install.
        m_host->create_parent_directories(location);
        const auto format = archive_format_from_path(spec.image).value_or(ArchiveFormat::tar);
        run_wsl(wsl::import_args(spec.name, location, spec.image, format), op);
    }
    else if (wsl::version_at_least(
                 wsl_version().empty() ? "0" : wsl_version(), wsl::kModernWslVersion))
    {
        run_wsl(wsl::install_from_file_args(spec.image, spec.name, spec.location), op);
    }
    else
    {
        if (spec.location)
        {
            throw UserError(
                fmt::format(
                    "cannot install {} with --location: WSL is older than {}",
                    spec.name,
                    wsl::kModernWslVersion),
                "update WSL with `wsl --update`, or leave out --location");
        }
        // The classic API: the files go beside the calling executable, as with the Store
        // launchers of old.
        const std::uint32_t hr = api().register_distribution(spec.name, spec.image);
        if (wsl::failed(hr))
        {
            wsl::throw_hresult(hr, op, api().describe(hr));
        }
    }
    // Modern installs set RunOOBE themselves, imports and the classic API do not: make the
    // record say what the interface promises, the same way for every path (install --root
    // included: cleared here, before the install returns).
    const auto entry = lxss_entry(spec.name);
    if (!entry)
    {
        throw SystemError(
            fmt::format("installing {}", spec.name),
            "WSL registered it but wrote no registry key for it");
    }
    m_host->set_run_oobe(entry->guid, spec.kind == InstallKind::image);
    undo.dismiss();
}

void WslBackend::unregister(const std::string& name)
{
    require_registered(name);
    const std::uint32_t hr = api().unregister_distribution(name);
    if (wsl::failed(hr))
    {
        wsl::throw_hresult(hr, {.doing = "removing", .name = name}, api().describe(hr));
    }
}

void WslBackend::terminate(const std::string& name)
{
    require_registered(name);
    run_wsl(wsl::terminate_args(name), {.doing = "stopping", .name = name});
}

void WslBackend::configure(const std::string& name, std::uint32_t default_uid, DistroFlags flags)
{
    require_registered(name);
    const std::uint32_t hr = api().configure_distribution(name, default_uid, flags.to_wsl());
    if (wsl::failed(hr))
    {
        wsl::throw_hresult(hr, {.doing = "configuring", .name = name}, api().describe(hr));
    }
}

DistroConfiguration WslBackend::get_configuration(const std::string& name)
{
    require_registered(name);
    WslApiConfiguration raw;
    const std::uint32_t hr = api().get_distribution_configuration(name, raw);
    if (wsl::failed(hr))
    {
        wsl::throw_hresult(
            hr, {.doing = "reading the configuration of", .name = name}, api().describe(hr));
    }
    const auto entry = lxss_entry(name);
    return {
        .version = (raw.flags & wsl::kVmModeFlag) != 0 ? 2U : 1U,
        .default_uid = raw.default_uid,
        .flags = DistroFlags::from_wsl(raw.flags),
        .default_environment = std::move(raw.environment),
        .setup_pending = entry && entry->run_oobe,
    };
}

void WslBackend::set_setup_pending(const std::string& name, bool pending)
{
    const auto entry = lxss_entry(name);
    if (!entry)
    {
        wsl::throw_hresult(wsl::kDistroNotFound, {.doing = "using", .name = name}, {});
    }
    m_host->set_run_oobe(entry->guid, pending);
}

LaunchResult WslBackend::launch(const std::string& name, const LaunchSpec& spec)
{
    require_registered(name);
    if (spec.user || spec.cwd)
    {
        // WslLaunch always runs as the default user in the home directory: wsl.exe can do more.
        std::vector<std::string> argv = {path_to_utf8(wsl_exe())};
        const auto args = wsl::exec_args(name, spec);
        argv.insert(argv.end(), args.begin(), args.end());
        ProcessOptions options = captured();
        options.stdin_data = spec.stdin_data;
        ProcessResult result = m_host->run(argv, options);
        if (is_wsl_exe_failure(result))
        {
            wsl::throw_wsl_exe_failure(
                result.exit_code,
                wsl::decode_wsl_output(result.out + result.err),
                {.doing = "running a command in", .name = name});
        }
        return {result.exit_code, std::move(result.out), std::move(result.err)};
    }
    WslApiOutput output;
    logger("wsl")->debug("WslLaunch {}: {}", name, wsl::launch_command(spec.argv));
    const std::uint32_t hr =
        api().launch(name, wsl::launch_command(spec.argv), false, spec.stdin_data, output);
    if (wsl::failed(hr))
    {
        wsl::throw_hresult(hr, {.doing = "running a command in", .name = name}, api().describe(hr));
    }
    return {static_cast<int>(output.exit_code), std::move(output.out), std::move(output.err)};
}

int WslBackend::launch_interactive(const std::string& name, const LaunchSpec& spec)
{
    require_registered(name);
    if (spec.user || spec.cwd)
    {
        std::vector<std::string> argv = {path_to_utf8(wsl_exe())};
        const auto args = wsl::exec_args(name, spec);
        argv.insert(argv.end(), args.begin(), args.end());
        ProcessOptions options;
        options.stdin_mode = Stream::inherit;
        options.stdout_mode = Stream::inherit;
        options.stderr_mode = Stream::inherit;
        // wsl.exe prints its own errors on the console; its exit code is the program's.
        return m_host->run(argv, options).exit_code;
    }
    std::uint32_t exit_code = 0;
    logger("wsl")->debug("WslLaunchInteractive {}: {}", name, wsl::launch_command(spec.argv));
    const std::uint32_t hr =
        api().launch_interactive(name, wsl::launch_command(spec.argv), false, exit_code);
    if (wsl::failed(hr))
    {
        wsl::throw_hresult(hr, {.doing = "starting", .name = name}, api().describe(hr));
    }
    return static_cast<int>(exit_code);
}

void WslBackend::export_to(const std::string& name, const ExportSpec& spec)
{
    require_registered(name);
    const fs::path dir = spec.file.parent_path();
    std::error_code ec;
    if (!dir.empty() && !fs::is_directory(dir, ec))
    {
        throw UserError(
            fmt::format(
                "cannot write {}: directory {} does not exist",
                path_to_utf8(spec.file),
                path_to_utf8(dir)),
            "create the directory first or choose another output path");
    }
    // wsl.exe writes the file itself: let it write a temporary name, then move it into place, so
    // a failed or interrupted export leaves no partial backup under the real name.
    std::random_device random;
    const fs::path temp =
        dir
        / path_from_utf8(fmt::format(
            ".{}.tmp-{:08x}{:08x}", path_to_utf8(spec.file.filename()), random(), random()));
    ScopeGuard remove_temp([&] { fs::remove(temp, ec); });
    run_wsl(
        wsl::export_args(name, temp, spec.format),
        {.doing = "exporting", .name = name, .detail = path_to_utf8(spec.file)});
    m_host->move_replace(temp, spec.file);
    remove_temp.dismiss();
}

std::string WslBackend::answers_guest_path(const std::string& name, const fs::path& host_file)
{
    require_registered(name);
    WslApiOutput output;
    const std::uint32_t hr = api().launch(
        name, wsl::wslpath_command(m_host->absolute_path(host_file)), false, std::nullopt, output);
    if (wsl::failed(hr))
    {
        wsl::throw_hresult(hr, {.doing = "starting", .name = name}, api().describe(hr));
    }
    if (output.exit_code != 0 || trimmed(output.out).empty())
    {
        throw UserError(
            fmt::format(
                "cannot make {} readable inside {}: {}",
                path_to_utf8(host_file),
                name,
                trimmed(output.err)),
            "keep the answers file on a local drive, and let WSL mount drives: "
            "`azurelinux config --mount-drives on`");
    }
    return trimmed(std::move(output.out));
}

void WslBackend::set_default_user(const std::string& name, const std::string& user)
{
    require_registered(name);
    run_wsl(
        wsl::set_default_user_args(name, user),
        {.doing = "setting the default user of", .name = name, .detail = user});
}

void WslBackend::set_version(const std::string& name, unsigned version)
{
    require_registered(name);
    run_wsl(wsl::set_version_args(name, version), {.doing = "converting", .name = name});
}

} // namespace azl::launcher
