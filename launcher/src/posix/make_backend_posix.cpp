// The backend a Linux build runs: the bubblewrap sandbox over a store in $XDG_DATA_HOME.
#include "sandbox_backend.hpp"

#include <azl/launcher/backend.hpp>

#include <memory>

namespace azl::launcher
{

std::unique_ptr<Backend> make_backend(const BackendOptions& options)
{
    return std::make_unique<sandbox::SandboxBackend>(options);
}

} // namespace azl::launcher
