#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/interrupt.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <utility>

namespace azl
{

namespace fs = std::filesystem;

UniqueFd::UniqueFd(UniqueFd&& other) noexcept
    : m_fd(other.release())
{
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept
{
    if (this != &other)
    {
        if (m_fd >= 0)
        {
            ::close(m_fd);
        }
        m_fd = other.release();
    }
    return *this;
}

UniqueFd::~UniqueFd()
{
    if (m_fd >= 0)
    {
        ::close(m_fd);
    }
}

int UniqueFd::release() noexcept
{
    return std::exchange(m_fd, -1);
}

void UniqueFd::close(const std::string& what)
{
    if (m_fd < 0)
    {
        return;
    }
    // Linux releases the descriptor even when close() fails, so never retry it.
    if (::close(std::exchange(m_fd, -1)) != 0 && errno != EINTR)
    {
        throw_errno(what);
    }
}

void write_all(int fd, std::span<const std::byte> data, const std::string& what)
{
    while (!data.empty())
    {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            throw_errno(what);
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
}

namespace
{

void fsync_directory(const fs::path& dir)
{
    const UniqueFd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    // Some filesystems refuse fsync on directories (EINVAL); the rename itself has happened.
    if (fd && ::fsync(fd.get()) != 0 && errno != EINVAL)
    {
        throw_errno(fmt::format("syncing directory {}", dir.string()));
    }
}

} // namespace

AtomicFile::AtomicFile(fs::path destination, unsigned mode)
    : m_destination(std::move(destination))
{
    const fs::path dir = m_destination.parent_path();
    std::string pattern =
        (dir / fmt::format(".{}.tmp-XXXXXX", m_destination.filename().string())).string();
    const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0)
    {
        const int err = errno;
        if (err == ENOENT)
        {
            throw UserError(
                fmt::format(
                    "cannot write {}: directory {} does not exist",
                    m_destination.string(),
                    dir.empty() ? "." : dir.string()),
                "create the directory first or choose another output path");
        }
        throw SystemError::from_errno(
            fmt::format("creating a file next to {}", m_destination.string()), err);
    }
    m_fd = UniqueFd(fd);
    m_temp = pattern;
    m_cleanup = std::make_unique<InterruptCleanup>(m_temp);
    const mode_t mask = ::umask(0);
    ::umask(mask);
    if (::fchmod(fd, static_cast<mode_t>(mode) & ~mask) != 0)
    {
        throw_errno(fmt::format("setting permissions of {}", m_temp.string()));
    }
}

AtomicFile::~AtomicFile()
{
    if (!m_committed && !m_temp.empty())
    {
        std::error_code ec;
        fs::remove(m_temp, ec);
    }
}

void AtomicFile::write(std::span<const std::byte> data)
{
    write_all(m_fd.get(), data, fmt::format("writing {}", m_destination.string()));
}

void AtomicFile::write(std::string_view text)
{
    write(std::as_bytes(std::span(text.data(), text.size())));
}

void AtomicFile::commit(Overwrite overwrite)
{
    const std::string what = fmt::format("writing {}", m_destination.string());
    if (::fsync(m_fd.get()) != 0)
    {
        throw_errno(what);
    }
    m_fd.close(what);
    if (overwrite == Overwrite::no)
    {
        // link() fails with EEXIST instead of replacing, atomically.
        if (::link(m_temp.c_str(), m_destination.c_str()) != 0)
        {
            if (errno == EEXIST)
            {
                throw UserError(
                    fmt::format("{} already exists", m_destination.string()),
                    "remove it or choose another path");
            }
            throw_errno(what);
        }
        ::unlink(m_temp.c_str());
    }
    else if (::rename(m_temp.c_str(), m_destination.c_str()) != 0)
    {
        throw_errno(what);
    }
    m_committed = true;
    m_cleanup.reset();
    fsync_directory(m_destination.parent_path());
}

void write_file_atomic(const fs::path& path, std::string_view content, unsigned mode)
{
    AtomicFile file(path, mode);
    file.write(content);
    file.commit();
}

std::string read_file(const fs::path& path, std::uintmax_t max_bytes)
{
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
    {
        const int err = errno;
        throw UserError(fmt::format("cannot read {}: {}", path.string(), std::strerror(err)));
    }
    struct stat st = {};
    if (::fstat(fd.get(), &st) != 0)
    {
        throw_errno(fmt::format("reading {}", path.string()));
    }
    if (S_ISDIR(st.st_mode))
    {
        throw UserError(fmt::format("cannot read {}: it is a directory", path.string()));
    }
    std::string out;
    std::array<char, 65536> buf{};
    for (;;)
    {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            throw_errno(fmt::format("reading {}", path.string()));
        }
        if (n == 0)
        {
            break;
        }
        if (out.size() + static_cast<std::size_t>(n) > max_bytes)
        {
            throw UserError(
                fmt::format("{} is larger than {}", path.string(), human_bytes(max_bytes)));
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    return out;
}

TempDir::TempDir(std::string_view prefix, const fs::path& parent)
{
    fs::path base = parent;
    if (base.empty())
    {
        const char* tmp = std::getenv("TMPDIR");
        base = (tmp != nullptr && *tmp != '\0') ? fs::path(tmp) : fs::path("/tmp");
    }
    std::string pattern = (base / fmt::format("{}-XXXXXX", prefix)).string();
    if (::mkdtemp(pattern.data()) == nullptr)
    {
        throw_errno(fmt::format("creating a temporary directory in {}", base.string()));
    }
    m_path = pattern;
}

TempDir::~TempDir()
{
    if (m_path.empty())
    {
        return;
    }
    std::error_code ec;
    // Extracted trees can hold read-only directories; make them writable so removal succeeds.
    for (auto it = fs::recursive_directory_iterator(m_path, ec);
         !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
    {
        if (it->is_directory(ec) && !it->is_symlink(ec))
        {
            fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
        }
    }
    fs::remove_all(m_path, ec);
}

UmaskScope::UmaskScope(unsigned mask)
    : m_saved(::umask(static_cast<mode_t>(mask)))
{
}

UmaskScope::~UmaskScope()
{
    ::umask(static_cast<mode_t>(m_saved));
}

} // namespace azl
