#include "../close_descriptor.hpp"

#include <azl/common/disk_space.hpp>
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
#include <random>
#include <system_error>
#include <utility>

namespace azl
{

namespace fs = std::filesystem;

int detail::close_descriptor(int fd) noexcept
{
    return ::close(fd);
}

namespace
{

// Writes all of `data`; returns 0, or the errno of the write that failed. `written` counts what
// reached the file, also on failure.
int write_fully(int fd, std::span<const std::byte> data, std::uint64_t& written) noexcept
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
            return errno;
        }
        written += static_cast<std::uint64_t>(n);
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return 0;
}

// The error for a temporary file that filled its file system. The free space reported is what
// there will be once the temporary file is gone (the unwinding caller removes it), and the need is
// the caller's estimate or, without one, what we tried to write.
NoSpaceError
no_space_for(const fs::path& destination, int fd, std::uint64_t attempted, std::uint64_t expected)
{
    SpaceInfo space = space_info(destination);
    struct stat st = {};
    if (fd >= 0 && ::fstat(fd, &st) == 0)
    {
        space.free += static_cast<std::uint64_t>(st.st_blocks) * 512U;
    }
    if (expected > attempted)
    {
        return {destination, std::move(space), expected, SizeEstimate::about};
    }
    return {destination, std::move(space), attempted, SizeEstimate::at_least};
}

} // namespace

void write_all(int fd, std::span<const std::byte> data, const std::string& what)
{
    std::uint64_t written = 0;
    if (const int err = write_fully(fd, data, written); err != 0)
    {
        throw SystemError::from_errno(what, err);
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

namespace
{

// An unnamed file in `dir` (O_TMPFILE), or no descriptor where the file system does not support
// that or /proc, through which commit() names it, is not mounted.
UniqueFd open_unnamed(const fs::path& dir)
{
    if (::access("/proc/self/fd", X_OK) != 0)
    {
        return {};
    }
    return UniqueFd(::open(dir.empty() ? "." : dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
}

// Gives the unnamed file open as `fd` a temporary name beside `destination`, to rename from.
fs::path link_unnamed(int fd, const fs::path& destination)
{
    const std::string proc = fmt::format("/proc/self/fd/{}", fd);
    std::random_device random;
    for (int attempt = 0; attempt < 100; ++attempt)
    {
        fs::path temp = destination.parent_path()
                        / fmt::format(".{}.tmp-{:08x}", destination.filename().string(), random());
        if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, temp.c_str(), AT_SYMLINK_FOLLOW) == 0)
        {
            return temp;
        }
        if (errno != EEXIST)
        {
            throw_errno(fmt::format("writing {}", destination.string()));
        }
    }
    throw SystemError(
        fmt::format("writing {}", destination.string()), "no free temporary name beside it");
}

void set_mode(int fd, unsigned mode, const fs::path& file)
{
    const mode_t mask = ::umask(0);
    ::umask(mask);
    if (::fchmod(fd, static_cast<mode_t>(mode) & ~mask) != 0)
    {
        throw_errno(fmt::format("setting permissions of {}", file.string()));
    }
}

} // namespace

AtomicFile::AtomicFile(fs::path destination, unsigned mode)
    : m_destination(std::move(destination))
{
    const fs::path dir = m_destination.parent_path();
    // Unnamed until commit(): a kill -9 or a power loss before then leaves nothing behind.
    if (UniqueFd unnamed = open_unnamed(dir); unnamed)
    {
        m_fd = std::move(unnamed);
        set_mode(m_fd.get(), mode, m_destination);
        return;
    }
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
        if (is_unwritable(err))
        {
            throw unwritable_error(m_destination, err);
        }
        if (is_no_space(err))
        {
            throw NoSpaceError(m_destination, space_info(m_destination), 0);
        }
        throw SystemError::from_errno(
            fmt::format("creating a file next to {}", m_destination.string()), err);
    }
    m_fd = UniqueFd(fd);
    m_temp = pattern;
    m_cleanup = std::make_unique<InterruptCleanup>(m_temp);
    set_mode(fd, mode, m_temp);
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
    const std::uint64_t before = m_written;
    const int err = write_fully(m_fd.get(), data, m_written);
    if (err == 0)
    {
        return;
    }
    if (is_no_space(err))
    {
        throw no_space_for(m_destination, m_fd.get(), before + data.size(), m_expected);
    }
    throw SystemError::from_errno(fmt::format("writing {}", m_destination.string()), err);
}

void AtomicFile::write(std::string_view text)
{
    write(std::as_bytes(std::span(text.data(), text.size())));
}

void AtomicFile::commit(Overwrite overwrite)
{
    const std::string what = fmt::format("writing {}", m_destination.string());
    // File systems that allocate late (NFS, delayed allocation) report a full disk only here.
    if (::fsync(m_fd.get()) != 0)
    {
        const int err = errno;
        if (is_no_space(err))
        {
            throw no_space_for(m_destination, m_fd.get(), m_written, m_expected);
        }
        throw SystemError::from_errno(what, err);
    }
    if (m_temp.empty())
    {
        m_temp = link_unnamed(m_fd.get(), m_destination);
        m_cleanup = std::make_unique<InterruptCleanup>(m_temp);
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
        const int err = errno;
        if (is_unwritable(err))
        {
            throw unwritable_error(pattern, err);
        }
        if (is_no_space(err))
        {
            throw NoSpaceError(base, space_info(base), 0);
        }
        throw SystemError::from_errno(
            fmt::format("creating a temporary directory in {}", base.string()), err);
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
