#include <azl/common/error.hpp>
#include <azl/common/openssl_error.hpp>
#include <azl/common/text.hpp>
#include <azl/integration/runtime.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <vector>

namespace azl::integration
{

namespace fs = std::filesystem;

namespace
{

// Creates `dir` 0700 when missing and refuses one that is a symlink, someone else's, or open to
// others.
void ensure_private_dir(const fs::path& dir)
{
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    {
        throw_errno(fmt::format("creating {}", dir.string()));
    }
    struct stat st = {};
    if (::lstat(dir.c_str(), &st) != 0)
    {
        throw_errno(fmt::format("inspecting {}", dir.string()));
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid())
    {
        throw UserError(
            fmt::format("{} is not a directory owned by you", dir.string()),
            "remove it (someone may be trying to read the bridge's secrets)");
    }
    if ((st.st_mode & 077U) != 0 && ::chmod(dir.c_str(), 0700) != 0)
    {
        throw_errno(fmt::format("making {} private", dir.string()));
    }
}

bool usable_base(const fs::path& base)
{
    struct stat st = {};
    return ::stat(base.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid()
           && (st.st_mode & 077U) == 0 && ::access(base.c_str(), W_OK) == 0;
}

std::string read_small(const fs::path& file)
{
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd)
    {
        return {};
    }
    std::array<char, 1024> buf{};
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    return n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : std::string();
}

bool is_hex64(const std::string& s)
{
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace

fs::path runtime_dir()
{
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    fs::path base;
    if (xdg != nullptr && *xdg == '/' && usable_base(xdg))
    {
        base = xdg;
    }
    else if (const fs::path run_user = fmt::format("/run/user/{}", ::geteuid());
             usable_base(run_user))
    {
        base = run_user;
    }
    if (base.empty())
    {
        // No per-user runtime directory (WSL without systemd): a private one in /tmp, checked
        // against planted directories and symlinks by ensure_private_dir.
        fs::path dir = fmt::format("/tmp/azurelinux-bridge-{}", ::geteuid());
        ensure_private_dir(dir);
        return dir;
    }
    fs::path dir = base / "azurelinux-bridge";
    ensure_private_dir(dir);
    return dir;
}

std::string random_hex(std::size_t bytes)
{
    std::vector<unsigned char> raw(bytes);
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    {
        throw SystemError("generating the bridge's secrets", openssl_error_text());
    }
    return hex_encode(raw);
}

std::optional<Secrets> load_secrets(const fs::path& dir)
{
    const std::string text = read_small(dir / "secrets");
    const auto nl = text.find('\n');
    if (nl == std::string::npos)
    {
        return std::nullopt;
    }
    Secrets s{text.substr(0, nl), text.substr(nl + 1, text.find('\n', nl + 1) - nl - 1)};
    if (!is_hex64(s.prefix) || !is_hex64(s.header))
    {
        return std::nullopt;
    }
    return s;
}

Secrets load_or_create_secrets(const fs::path& dir)
{
    if (auto s = load_secrets(dir))
    {
        return *s;
    }
    Secrets s{random_hex(32), random_hex(32)};
    const UmaskScope umask(077);
    write_file_atomic(dir / "secrets", s.prefix + "\n" + s.header + "\n", 0600);
    return s;
}

void write_server_state(const fs::path& dir, const ServerState& state)
{
    const UmaskScope umask(077);
    write_file_atomic(
        dir / "server.json",
        nlohmann::json{{"port", state.port}, {"pid", state.pid}}.dump() + "\n",
        0600);
}

std::optional<ServerState> read_server_state(const fs::path& dir)
{
    const auto j = nlohmann::json::parse(read_small(dir / "server.json"), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("port") || !j["port"].is_number_integer()
        || !j.contains("pid") || !j["pid"].is_number_integer())
    {
        return std::nullopt;
    }
    return ServerState{j["port"].get<int>(), j["pid"].get<pid_t>()};
}

std::optional<InstanceLock> InstanceLock::try_acquire(const fs::path& dir, std::string_view name)
{
    const fs::path file = dir / name;
    UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd)
    {
        throw_errno(fmt::format("opening {}", file.string()));
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
    {
        if (errno == EWOULDBLOCK)
        {
            return std::nullopt;
        }
        throw_errno(fmt::format("locking {}", file.string()));
    }
    return InstanceLock(std::move(fd));
}

bool InstanceLock::is_held(const fs::path& dir, std::string_view name)
{
    const fs::path file = dir / name;
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd)
    {
        return false;
    }
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0)
    {
        return errno == EWOULDBLOCK;
    }
    return false;
}

Endpoints endpoints(int port, const Secrets& secrets)
{
    Endpoints e;
    e.base = fmt::format("http://127.0.0.1:{}/{}", port, secrets.prefix);
    e.identity_endpoint = e.base + std::string(kAppServicePath);
    e.msi_endpoint = e.base + std::string(kCloudShellPath);
    e.imds_endpoint = e.base + std::string(kImdsPath);
    e.azd_endpoint = e.base + std::string(kAzdBasePath);
    return e;
}

} // namespace azl::integration
