#include "context.hpp"

#include <azl/launcher/relay.hpp>

#include <memory>
#include <string>

namespace azl::app
{

namespace
{

struct RelayOptions
{
    std::string pipe;
    std::string assuan;
};

} // namespace

void add_relay(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<RelayOptions>();
    CLI::App* cmd = app.add_subcommand(
        "relay",
        "Connect stdin and stdout to a Windows agent: a named pipe or GnuPG's (the guest's "
        "relays)");
    cmd->footer(
        R"(The guest's azurelinux-bridge starts this through WSL interop for each connection to its
ssh-agent socket ($XDG_RUNTIME_DIR/azurelinux-bridge/ssh-agent.sock) or gpg-agent socket: bytes
are copied both ways until either side closes. Nothing is stored; the keys never leave Windows.

Examples:
  azurelinux relay --pipe openssh-ssh-agent     # what the guest runs, as azurelinux.exe
  azurelinux relay --assuan "%LOCALAPPDATA%\gnupg\S.gpg-agent.extra")");
    auto* pipe = cmd->add_option(
        "--pipe", opt->pipe, R"(The pipe's name (after \\.\pipe\), e.g. openssh-ssh-agent)");
    auto* assuan = cmd->add_option(
        "--assuan",
        opt->assuan,
        "GnuPG's socket file (a TCP port and a nonce), e.g. S.gpg-agent.extra of Gpg4win");
    pipe->excludes(assuan);
    cmd->require_option(1);
    cmd->callback(
        [opt, &ctx]
        {
            ctx.exit_code = opt->pipe.empty() ? launcher::relay_assuan(opt->assuan)
                                              : launcher::relay_named_pipe(opt->pipe);
        });
}

} // namespace azl::app
