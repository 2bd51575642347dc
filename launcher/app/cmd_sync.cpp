// `azurelinux sync`: the host's trusted certificates and proxy carried into the distribution now.
#include "context.hpp"

#include <azl/launcher/host_sync.hpp>

#include <fmt/format.h>

namespace azl::app
{

void add_sync(CLI::App& app, Context& ctx)
{
    auto name = std::make_shared<std::string>(launcher::kDefaultName);
    auto json = std::make_shared<bool>(false);
    auto dry_run = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand(
        "sync", "Carry Windows' trusted certificates and proxy settings into the distribution");
    cmd->footer(
        R"(Reads the certificates Windows trusts beyond the public roots (the Root and CA stores of the
machine and the user, with what Group Policy, Intune and the Enterprise store pushed) and the proxy
(Internet Settings), and makes them the distribution's: the certificates as a set of their own in
the trust store (Azure Linux: /etc/pki/ca-trust/source/anchors/azurelinux-host.pem; Debian:
/usr/local/share/ca-certificates/azurelinux-host/), the proxy for login shells, /etc/environment,
the package manager, git, npm and pip. Certificates the distribution already trusts, expired ones
and ones that are not CAs are skipped and reported; a certificate removed from Windows is removed
at the next sync; your own certificates are never touched. This also happens at install, at first
run and, when something changed, at every launch; /etc/azurelinux/host-sync.conf (the answers'
host_sync key) turns either half off. On Linux the sandbox reads the folder
$AZL_SANDBOX_TRUSTED_CERTS and the proxy variables of your environment instead.

A proxy auto-configuration (PAC) file (Internet Settings' AutoConfigURL; the sandbox:
$AZL_SANDBOX_PAC_URL) is evaluated here, by WinHTTP on Windows and libpacparser on Linux, for the
distribution's package repositories and the Azure endpoints: the guest gets the proxy it names and
the hosts it sends DIRECT as no_proxy. --dry-run shows what would be carried, changing nothing.

Examples:
  azurelinux sync
  azurelinux sync --name Dev --json
  azurelinux sync --dry-run)");
    add_name_option(*cmd, *name);
    CLI::Option* json_flag =
        cmd->add_flag("--json", *json, "Print the guest's report as JSON on stdout");
    cmd->add_flag(
           "--dry-run",
           *dry_run,
           "Only say what would be carried (the proxy a PAC file gives, the hosts it sends DIRECT)")
        ->excludes(json_flag);
    cmd->callback(
        [name, json, dry_run, &ctx]
        {
            const auto outcome = launcher::sync_host(
                ctx.backend(),
                *name,
                *dry_run ? launcher::SyncWhen::dry_run : launcher::SyncWhen::on_demand);
            if (*json)
            {
                fmt::print("{}", outcome.report_json.empty() ? "null\n" : outcome.report_json);
                return;
            }
            for (const auto& line : outcome.lines)
            {
                fmt::print("{}\n", line);
            }
        });
}

} // namespace azl::app
