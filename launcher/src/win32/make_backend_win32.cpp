// The backend a Windows build runs: WSL, through wslapi.dll and wsl.exe. BackendOptions' sandbox
// store has no meaning here.
#include "wsl_win32.hpp"

#include <azl/launcher/backend.hpp>
#include <azl/launcher/wsl_backend.hpp>

#include <memory>

namespace azl::launcher
{

std::unique_ptr<Backend> make_backend(const BackendOptions& /*options*/)
{
    return std::make_unique<WslBackend>(make_wsl_api(), make_wsl_host());
}

} // namespace azl::launcher
