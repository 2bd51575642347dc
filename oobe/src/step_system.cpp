#include "interrupt.hpp"
#include "steps.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/text.hpp>
#include <azl/oobe/host_sync.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace azl::oobe
{

namespace fs = std::filesystem;
using detail::run_checked;

namespace
{

// Enables `locale` in /etc/locale.gen (Debian) so locale-gen builds it; returns whether it changed.
bool enable_in_locale_gen(const std::string& locale)
{
    const fs::path gen = "/etc/locale.gen";
    std::error_code ec;
    if (!fs::exists(gen, ec))
    {
        return false;
    }
    std::string charmap;
    std::ifstream supported("/usr/share/i18n/SUPPORTED");
    std::string line;
    while (std::getline(supported, line))
    {
        if (line.starts_with(locale + " "))
        {
            charmap = line.substr(locale.size() + 1);
            break;
        }
    }
    const std::string wanted = fmt::format("{} {}", locale, charmap.empty() ? "UTF-8" : charmap);
    const auto text = read_file(gen);
    std::istringstream in(text);
    std::string out;
    bool found = false;
    while (std::getline(in, line))
    {
        std::string bare = line;
        while (bare.starts_with('#') || bare.starts_with(' '))
        {
            bare.erase(0, 1);
        }
        if (bare == wanted)
        {
            found = true;
            line = wanted;
        }
        out += line + "\n";
    }
    if (!found)
    {
        out += wanted + "\n";
    }
    return detail::write_if_changed(gen, out, 0644);
}

bool locale_available(const std::string& locale)
{
    if (!find_program("locale"))
    {
        return false;
    }
    const auto result = run_process({"locale", "-a"});
    // `locale -a` prints en_US.utf8 for en_US.UTF-8.
    std::string normal = locale;
    if (const auto dot = normal.find('.'); dot != std::string::npos)
    {
        std::string codeset = ascii_lower(normal.substr(dot + 1));
        codeset.erase(std::remove(codeset.begin(), codeset.end(), '-'), codeset.end());
        normal = normal.substr(0, dot + 1) + codeset;
    }
    std::istringstream in(result.out);
    std::string line;
    while (std::getline(in, line))
    {
        if (line == locale || line == normal)
        {
            return true;
        }
    }
    return false;
}

} // namespace

std::string plan_hostname(const StepContext& ctx)
{
    return fmt::format(
        "set the host name to {} (/etc/hostname, /etc/wsl.conf)", *ctx.answers.hostname);
}

std::string apply_hostname(StepContext& ctx)
{
    const auto& name = *ctx.answers.hostname;
    detail::write_if_changed("/etc/hostname", name + "\n", 0644);
    // WSL sets the host name from Windows at every start unless wsl.conf names one.
    detail::edit_ini(
        kWslConf, 0644, [&name](IniFile& ini) { ini.set("network", "hostname", name); });
    return fmt::format("host name {} (takes effect when the distribution restarts)", name);
}

std::string plan_locale(const StepContext& ctx)
{
    return fmt::format(
        "set the system locale to {} ({})", *ctx.answers.locale, ctx.facts.locale_file);
}

std::string apply_locale(StepContext& ctx)
{
    const auto& locale = *ctx.answers.locale;
    const bool c_locale = locale == "C" || locale == "POSIX" || locale.starts_with("C.");
    if (!c_locale && ctx.facts.family == Family::debian && find_program("locale-gen"))
    {
        if (enable_in_locale_gen(locale) || !locale_available(locale))
        {
            run_checked({"locale-gen"}, fmt::format("generating the {} locale", locale));
        }
    }
    else if (!c_locale && !locale_available(locale))
    {
        ctx.log->warn(
            "locale {} is not installed; install its language pack (e.g. glibc-langpack-{})",
            locale,
            locale.substr(0, locale.find('_')));
    }
    detail::write_if_changed(ctx.facts.locale_file, fmt::format("LANG={}\n", locale), 0644);
    return fmt::format("locale {}", locale);
}

std::string plan_timezone(const StepContext& ctx)
{
    return fmt::format("set the time zone to {} (/etc/localtime)", *ctx.answers.timezone);
}

std::string apply_timezone(StepContext& ctx)
{
    const auto& tz = *ctx.answers.timezone;
    const fs::path target = fs::path("../usr/share/zoneinfo") / tz;
    std::error_code ec;
    if (!fs::is_symlink("/etc/localtime", ec) || fs::read_symlink("/etc/localtime", ec) != target)
    {
        const fs::path temp = "/etc/.localtime.azurelinux-oobe";
        fs::remove(temp, ec);
        fs::create_symlink(target, temp);
        fs::rename(temp, "/etc/localtime");
    }
    if (ctx.facts.writes_etc_timezone)
    {
        detail::write_if_changed("/etc/timezone", tz + "\n", 0644);
    }
    // WSL otherwise points /etc/localtime back at the Windows time zone at every start.
    detail::edit_ini(
        kWslConf, 0644, [](IniFile& ini) { ini.set("time", "useWindowsTimezone", "false"); });
    return fmt::format("time zone {}", tz);
}

std::string plan_systemd(const StepContext& ctx)
{
    return fmt::format(
        "{} systemd at boot (/etc/wsl.conf [boot] systemd)",
        *ctx.answers.systemd ? "enable" : "disable");
}

std::string apply_systemd(StepContext& ctx)
{
    const bool on = *ctx.answers.systemd;
    detail::edit_ini(
        kWslConf, 0644, [on](IniFile& ini) { ini.set("boot", "systemd", on ? "true" : "false"); });
    return fmt::format("systemd {} (after `wsl --terminate`)", on ? "enabled" : "disabled");
}

std::string plan_bridge(const StepContext& ctx)
{
    return fmt::format(
        "{} the Azure bridge ({})",
        ctx.answers.bridge->enabled ? "enable" : "disable",
        kBridgeConf);
}

std::string apply_bridge(StepContext& ctx)
{
    const auto& b = *ctx.answers.bridge;
    detail::edit_ini(
        kBridgeConf,
        0644,
        [&b](IniFile& ini)
        {
            ini.set("bridge", "enabled", b.enabled ? "true" : "false");
            if (b.idle_timeout)
            {
                ini.set("bridge", "idleTimeout", std::to_string(*b.idle_timeout));
            }
            if (!b.host_az.empty())
            {
                ini.set("bridge", "hostAz", b.host_az);
            }
            if (!b.tenant.empty())
            {
                ini.set("bridge", "tenant", b.tenant);
            }
            if (b.ssh_agent)
            {
                ini.set("ssh-agent", "enabled", *b.ssh_agent ? "true" : "false");
            }
            if (b.gpg_agent)
            {
                ini.set("gpg-agent", "enabled", *b.gpg_agent ? "true" : "false");
            }
            if (b.gcm)
            {
                ini.set("gcm", "enabled", *b.gcm ? "true" : "false");
            }
        });
    return fmt::format("Azure bridge {}", b.enabled ? "enabled" : "disabled");
}

std::string plan_host_sync(const StepContext& ctx)
{
    const auto& h = *ctx.answers.host_sync;
    return fmt::format(
        "carry the host's certificates: {}, the host's proxy: {} ({})",
        h.certificates ? "yes" : "no",
        h.proxy ? "yes" : "no",
        kHostSyncConf);
}

std::string apply_host_sync(StepContext& ctx)
{
    const auto& h = *ctx.answers.host_sync;
    detail::edit_ini(
        kHostSyncConf,
        0644,
        [&h](IniFile& ini)
        {
            ini.set("sync", "certificates", h.certificates ? "true" : "false");
            ini.set("sync", "proxy", h.proxy ? "true" : "false");
        });
    // The launcher syncs before setup runs: what it carried in is taken out again when the
    // answers turn it off (an answers proxy, written by the proxy step, stays).
    if (!h.certificates && write_managed_set(trust_layout(ctx.facts), {}))
    {
        detail::run_checked(detail::command(ctx.facts.ca_update), "rebuilding the trust store");
    }
    if (!h.proxy && !ctx.answers.proxy)
    {
        apply_config_edits(proxy_config_edits(ctx.facts, std::nullopt));
    }
    return fmt::format(
        "host sync: certificates {}, proxy {}",
        h.certificates ? "on" : "off",
        h.proxy ? "on" : "off");
}

std::string plan_run(const StepContext& ctx)
{
    return fmt::format("run {} command(s) as root with /bin/sh -c", ctx.answers.run.size());
}

// Each command is recorded when it succeeds, so a re-run after a failure starts at the failed one.
std::string apply_run(StepContext& ctx)
{
    const auto& cmds = ctx.answers.run;
    std::size_t ran = 0;
    for (std::size_t i = 0; i < cmds.size(); ++i)
    {
        const auto id = fmt::format("run/{}", i);
        if (ctx.state.done(id))
        {
            continue;
        }
        throw_if_interrupted();
        ProcessOptions opts;
        opts.stdout_mode = Stream::inherit;
        opts.stderr_mode = Stream::inherit;
        opts.cwd = "/";
        if (ctx.answers.user)
        {
            opts.set_env["AZURELINUX_OOBE_USER"] = ctx.answers.user->name;
        }
        // The command text may carry tokens: the log gets its index, never its text.
        ctx.log->info("running command {}", id);
        run_checked({"/bin/sh", "-c", cmds[i]}, fmt::format("command /run/{}", i), opts);
        ctx.state.mark_done(id);
        ctx.state.save(ctx.state_path);
        ++ran;
    }
    return fmt::format("{} command(s) ran", ran);
}

} // namespace azl::oobe
