#include <azl/common/error.hpp>
#include <azl/launcher/relay.hpp>

namespace azl::launcher
{

int relay_named_pipe(std::string_view name)
{
    (void)named_pipe_path(name); // the same usage errors as on Windows
    throw UserError(
        "`relay` reaches Windows named pipes: it is the Windows launcher's (azurelinux.exe)",
        "in WSL the guest's azurelinux-bridge starts azurelinux.exe relay itself; on Linux, point "
        "SSH_AUTH_SOCK at your agent's socket");
}

int relay_assuan(std::string_view socket_file)
{
    (void)socket_file;
    throw UserError(
        "`relay --assuan` reaches GnuPG's agent on Windows: it is the Windows launcher's "
        "(azurelinux.exe)",
        "in WSL the guest's azurelinux-bridge starts azurelinux.exe relay itself");
}

} // namespace azl::launcher
