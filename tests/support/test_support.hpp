#pragma once
// Helpers shared by the unit tests.

#include <azl/common/fs.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace azl::test
{

// The message of the E that FN throws; "" when it throws nothing.
template <class E, class Fn>
std::string thrown_message(Fn&& fn)
{
    try
    {
        std::forward<Fn>(fn)();
    }
    catch (const E& e)
    {
        return e.what();
    }
    return {};
}

// Everything that can be read from FD until end of file (or an error).
std::string read_to_eof(int fd);

// A private temporary directory for one test case, removed afterwards.
class Sandbox
{
public:
    Sandbox();

    // The directory.
    [[nodiscard]] const std::filesystem::path& path() const noexcept
    {
        return m_dir.path();
    }

    // Creates a file (and its parent directories) with `content` and `mode`; returns its path.
    // NOLINTBEGIN(modernize-use-nodiscard): most callers want the file, not the path
    std::filesystem::path
    write(const std::string& relative, std::string_view content, unsigned mode = 0644) const;
    // NOLINTEND(modernize-use-nodiscard)

private:
    TempDir m_dir;
};

// A tmpfs of `bytes` mounted at a new directory, in a mount namespace of this process's own (so
// nobody else sees it and it goes when the process does); unmounted on destruction. Needs root:
// mounted() is false otherwise and the caller skips its checks.
class SmallTmpfs
{
public:
    SmallTmpfs(std::filesystem::path dir, std::uint64_t bytes);
    SmallTmpfs(const SmallTmpfs&) = delete;
    SmallTmpfs& operator=(const SmallTmpfs&) = delete;
    SmallTmpfs(SmallTmpfs&&) = delete;
    SmallTmpfs& operator=(SmallTmpfs&&) = delete;
    ~SmallTmpfs();

    // Whether the file system is there (false when not root).
    [[nodiscard]] bool mounted() const noexcept
    {
        return m_mounted;
    }

    // Its mount point.
    [[nodiscard]] const std::filesystem::path& path() const noexcept
    {
        return m_dir;
    }

private:
    std::filesystem::path m_dir;
    bool m_mounted = false;
};

// The whole content of a file.
std::string slurp(const std::filesystem::path& file);

// The number of entries directly in `dir`.
std::size_t count_files(const std::filesystem::path& dir);

// A real executable for this machine's architecture (the host's /bin/dash), for trees whose checks
// read ELF headers.
std::string host_elf();

} // namespace azl::test
