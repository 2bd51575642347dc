#pragma once

#include <azl/common/fs.hpp>
#include <azl/integration/protocols.hpp>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace azl::integration
{

// The per-user private directory: $XDG_RUNTIME_DIR/azurelinux-bridge (0700), else
// /run/user/UID/azurelinux-bridge, else /tmp/azurelinux-bridge-UID. Created when missing; refused
// when it is a symlink, not ours, or readable by others.
std::filesystem::path runtime_dir();

// `bytes` random bytes from OpenSSL's CSPRNG as lower-case hex.
std::string random_hex(std::size_t bytes);

// The secrets kept in DIR/secrets (0600), created with fresh 256-bit values when missing, so a
// restarted server keeps the URLs shells already exported.
Secrets load_or_create_secrets(const std::filesystem::path& dir);

// Reads DIR/secrets; nullopt when missing.
std::optional<Secrets> load_secrets(const std::filesystem::path& dir);

// What a running server publishes in DIR/server.json (0600).
struct ServerState
{
    int port = 0;
    pid_t pid = 0;
};

// Writes DIR/server.json atomically.
void write_server_state(const std::filesystem::path& dir, const ServerState& state);

// Reads DIR/server.json; nullopt when missing or unreadable.
std::optional<ServerState> read_server_state(const std::filesystem::path& dir);

// The one-server-per-user lock (DIR/NAME, flock; the token server's is DIR/lock) held for the
// server's lifetime.
class InstanceLock
{
public:
    // Takes the lock without waiting; nullopt when another process holds it.
    static std::optional<InstanceLock>
    try_acquire(const std::filesystem::path& dir, std::string_view name = "lock");

    // Whether some process holds the lock now (a server is running).
    static bool is_held(const std::filesystem::path& dir, std::string_view name = "lock");

private:
    explicit InstanceLock(UniqueFd fd)
        : m_fd(std::move(fd))
    {
    }

    UniqueFd m_fd;
};

// The URLs a server on `port` serves, as exported to shells.
struct Endpoints
{
    std::string identity_endpoint; // App Service
    std::string msi_endpoint;      // Cloud Shell
    std::string imds_endpoint;     // IMDS shape (Terraform ARM_MSI_ENDPOINT)
    std::string azd_endpoint;      // azd's external authentication (AZD_AUTH_ENDPOINT)
    std::string base;              // http://127.0.0.1:PORT/PREFIX
};

// Builds the endpoint URLs.
Endpoints endpoints(int port, const Secrets& secrets);

} // namespace azl::integration
