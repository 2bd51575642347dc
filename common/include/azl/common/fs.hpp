#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace azl
{

class InterruptCleanup;

// True when P names a regular file (a symbolic link is followed); false when it does not, or when
// that cannot be told (a directory on the way that cannot be read).
inline bool regular_file_exists(const std::filesystem::path& p) noexcept
{
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec);
}

// Owns a file descriptor; closes it on destruction.
class UniqueFd
{
public:
    UniqueFd() = default;

    // Takes ownership of `fd` (-1 means none).
    explicit UniqueFd(int fd) noexcept
        : m_fd(fd)
    {
    }

    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept;
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    ~UniqueFd();

    // The descriptor, still owned; -1 when none.
    [[nodiscard]] int get() const noexcept
    {
        return m_fd;
    }

    // True when a descriptor is held.
    [[nodiscard]] explicit operator bool() const noexcept
    {
        return m_fd >= 0;
    }

    // Gives up ownership and returns the descriptor.
    int release() noexcept;

    // Closes now, reporting a failed close (which can mean lost data on NFS or a full disk).
    void close(const std::string& what);

private:
    int m_fd = -1;
};

// Writes all of `data` to `fd`, retrying on EINTR and short writes; throws
// SystemError naming `what`.
void write_all(int fd, std::span<const std::byte> data, const std::string& what);

// Whether the staged file replaces an existing destination.
enum class Overwrite
{
    yes,
    no,
};

// A file written under a temporary name next to its destination and renamed over it on commit().
// Destruction without commit() removes the temporary file: readers never see a half-written file.
class AtomicFile
{
public:
    // Creates the temporary file beside `destination` with permissions `mode` (before umask).
    explicit AtomicFile(std::filesystem::path destination, unsigned mode = 0644);
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    AtomicFile(AtomicFile&&) = delete;
    AtomicFile& operator=(AtomicFile&&) = delete;
    ~AtomicFile();

    // Appends bytes; throws NoSpaceError (disk_space.hpp) when the file system is full, else
    // SystemError naming the destination.
    void write(std::span<const std::byte> data);
    // Appends text.
    void write(std::string_view text);

    // The descriptor of the temporary file, for writers that need one.
    [[nodiscard]] int fd() const noexcept
    {
        return m_fd.get();
    }

    // The size the file should reach, when known: the "needed ~N" of a no-space error.
    void expect_size(std::uint64_t bytes) noexcept
    {
        m_expected = bytes;
    }

    // The final path.
    [[nodiscard]] const std::filesystem::path& destination() const noexcept
    {
        return m_destination;
    }

    // fsyncs, closes and renames into place (and fsyncs the directory). Throws on any failure.
    void commit(Overwrite overwrite = Overwrite::yes);

private:
    std::filesystem::path m_destination;
    std::filesystem::path m_temp;
    UniqueFd m_fd;
    std::uint64_t m_written = 0;
    std::uint64_t m_expected = 0;
    bool m_committed = false;
    std::unique_ptr<InterruptCleanup> m_cleanup; // removes the temporary file on SIGINT/SIGTERM
};

// Replaces `path` with `content` atomically (temp file + fsync + rename).
void write_file_atomic(
    const std::filesystem::path& path, std::string_view content, unsigned mode = 0644);

// Reads a whole file; throws UserError naming the file when it cannot be read or
// exceeds `max_bytes`.
std::string read_file(const std::filesystem::path& path, std::uintmax_t max_bytes = 64U << 20U);

// A fresh private (0700) directory, removed with everything in it on destruction.
class TempDir
{
public:
    // Creates it under `parent` (default: $TMPDIR or /tmp) with a name starting with `prefix`.
    explicit TempDir(std::string_view prefix = "azl", const std::filesystem::path& parent = {});
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;
    ~TempDir();

    // The directory.
    [[nodiscard]] const std::filesystem::path& path() const noexcept
    {
        return m_path;
    }

    // Stops the destructor from removing it (the caller has renamed or adopted it).
    void release() noexcept
    {
        m_path.clear();
    }

private:
    std::filesystem::path m_path;
};

// Sets the process umask for the scope's duration.
class UmaskScope
{
public:
    // Applies `mask` until destruction.
    explicit UmaskScope(unsigned mask);
    UmaskScope(const UmaskScope&) = delete;
    UmaskScope& operator=(const UmaskScope&) = delete;
    UmaskScope(UmaskScope&&) = delete;
    UmaskScope& operator=(UmaskScope&&) = delete;
    ~UmaskScope(); // NOLINT(performance-trivially-destructible): restores the umask on POSIX

private:
    unsigned m_saved;
};

// Formats a byte count for people: "812 B", "4.2 KiB", "96.0 MiB".
std::string human_bytes(std::uintmax_t bytes);

} // namespace azl
