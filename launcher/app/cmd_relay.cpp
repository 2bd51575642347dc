#include "context.hpp"

#include <azl/launcher/relay.hpp>

#include <memory>
#include <string>

namespace azl::app
{

void add_relay(CLI::App& app, Context& ctx)
{
    auto pipe = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand(
        "relay", "Connect stdin and stdout to a Windows named pipe (the guest's agent relays)");
    cmd->footer(
        R"(The guest's azurelinux-bridge starts this through WSL interop for each connection to its
ssh-agent socket ($XDG_RUNTIME_DIR/azurelinux-bridge/ssh-agent.sock): bytes are copied both ways
until either side closes. Nothing is stored; the agent's keys never leave Windows.

Examples:
  azurelinux relay --pipe openssh-ssh-agent     # what the guest runs, as azurelinux.exe)");
    cmd->add_option("--pipe", *pipe, R"(The pipe's name (after \\.\pipe\), e.g. openssh-ssh-agent)")
        ->required();
    cmd->callback([pipe, &ctx] { ctx.exit_code = launcher::relay_named_pipe(*pipe); });
}

} // namespace azl::app
