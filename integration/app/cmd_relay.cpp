#include "context.hpp"

#include <azl/integration/relay.hpp>

#include <memory>
#include <string>

namespace azl::bridge_app
{

void add_ssh_agent(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand(
        "ssh-agent",
        "Serve this user's SSH_AUTH_SOCK with the Windows ssh-agent's keys (one relay per user)");
    cmd->footer(
        "The socket is $XDG_RUNTIME_DIR/azurelinux-bridge/ssh-agent.sock; each connection is "
        "relayed to \\\\.\\pipe\\openssh-ssh-agent by `azurelinux.exe relay` through WSL interop.\n"
        "The login hook starts it (`azurelinux-bridge env`) unless SSH_AUTH_SOCK already names a "
        "live agent.\n\nExample:\n  azurelinux-bridge ssh-agent --background && "
        "SSH_AUTH_SOCK=$XDG_RUNTIME_DIR/azurelinux-bridge/ssh-agent.sock ssh-add -l");
    auto background = std::make_shared<bool>(false);
    cmd->add_flag("-b,--background", *background, "Detach once the socket is ready");
    cmd->callback(
        [&ctx, background]
        {
            ctx.exit_code = integration::serve_ssh_agent(
                ctx.config(), *background ? integration::Detach::yes : integration::Detach::no);
        });
}

void add_gpg_agent(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand(
        "gpg-agent",
        "Serve this user's gpg-agent socket with the Windows GnuPG agent's keys (one relay per "
        "user)");
    cmd->footer(
        "The socket is where the guest's gpg looks (gpgconf --list-dirs agent-socket); each "
        "connection is relayed to Gpg4win's S.gpg-agent.extra by `azurelinux.exe relay --assuan` "
        "through WSL interop. The login hook starts it unless the guest's own gpg-agent runs.\n"
        "The guest's keyring needs your public key (the private key stays on Windows).\n\n"
        "Example:\n  azurelinux-bridge gpg-agent --background && echo hi | gpg --clearsign");
    auto background = std::make_shared<bool>(false);
    cmd->add_flag("-b,--background", *background, "Detach once the socket is ready");
    cmd->callback(
        [&ctx, background]
        {
            ctx.exit_code = integration::serve_gpg_agent(
                ctx.config(), *background ? integration::Detach::yes : integration::Detach::no);
        });
}

void add_git_credential(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand(
        "git-credential",
        "Git's credential helper: runs the Windows Git Credential Manager, wherever it is "
        "installed");
    cmd->footer(
        "Set in /etc/gitconfig by the image: credential.helper = /usr/bin/azurelinux-bridge "
        "git-credential. Without GCM (or with [gcm] enabled = false) it answers nothing and git "
        "asks as usual.\n\nExample:\n  printf 'protocol=https\\nhost=github.com\\n\\n' | "
        "git credential fill");
    auto action = std::make_shared<std::string>();
    cmd->add_option("action", *action, "get, store or erase (as git passes it)")->required();
    cmd->callback([&ctx, action]
                  { ctx.exit_code = integration::run_git_credential(ctx.config(), *action); });
}

} // namespace azl::bridge_app
