#include "../close_descriptor.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/interrupt.hpp>
#include <azl/common/win32/win32.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <io.h>

#include <array>
#include <cerrno>
#include <climits>
#include <random>
#include <system_error>
#include <utility>

// Windows counterparts of fs_posix.cpp. Descriptors are C runtime descriptors (as the interface's
// `int` promises) over Win32 handles; permissions come from the folder's inherited ACL, so the
// POSIX modes the interface takes have no meaning here and are ignored.

namespace azl
{

namespace fs = std::filesystem;

int detail::close_descriptor(int fd) noexcept
{
    return ::_close(fd);
}

void write_all(int fd, std::span<const std::byte> data, const std::string& what)
{
    while (!data.empty())
    {
        const auto chunk = static_cast<unsigned>(std::min<std::size_t>(data.size(), 1U << 30U));
        const int n = ::_write(fd, data.data(), chunk);
        if (n < 0)
        {
            throw_errno(what);
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
}

namespace
{

// A name no other process picks: 64 random bits.
std::string random_suffix()
{
    std::random_device device;
    return fmt::format("{:08x}{:08x}", device(), device());
}

std::string display(const fs::path& path)
{
    return path.string(); // libstdc++ on Windows converts the UTF-16 path to UTF-8
}

} // namespace

AtomicFile::AtomicFile(fs::path destination, unsigned /*mode*/)
    : m_destination(std::move(destination))
{
    const fs::path dir = m_destination.parent_path();
    for (int attempt = 0;; ++attempt)
    {
        fs::path temp = dir
                        / fs::path(
                            L"." + m_destination.filename().wstring() + L".tmp-"
                            + win32::to_wide(random_suffix()));
        HANDLE handle = ::CreateFileW(
            temp.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
        if (handle == INVALID_HANDLE_VALUE)
        {
            const DWORD err = ::GetLastError();
            if (err == ERROR_FILE_EXISTS && attempt < 8)
            {
                continue;
            }
            if (err == ERROR_PATH_NOT_FOUND)
            {
                throw UserError(
                    fmt::format(
                        "cannot write {}: directory {} does not exist",
                        display(m_destination),
                        dir.empty() ? "." : display(dir)),
                    "create the directory first or choose another output path");
            }
            throw win32::make_system_error(
                fmt::format("creating a file next to {}", display(m_destination)), err);
        }
        const int fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(handle), _O_BINARY);
        if (fd < 0)
        {
            ::CloseHandle(handle);
            ::DeleteFileW(temp.c_str());
            throw_errno(fmt::format("opening {}", display(temp)));
        }
        m_fd = UniqueFd(fd);
        m_temp = std::move(temp);
        break;
    }
    m_cleanup = std::make_unique<InterruptCleanup>(m_temp);
}

AtomicFile::~AtomicFile()
{
    if (!m_committed && !m_temp.empty())
    {
        m_fd = UniqueFd(); // Windows cannot delete a file that is still open
        ::DeleteFileW(m_temp.c_str());
    }
}

void AtomicFile::write(std::span<const std::byte> data)
{
    write_all(m_fd.get(), data, fmt::format("writing {}", display(m_destination)));
}

void AtomicFile::write(std::string_view text)
{
    write(std::as_bytes(std::span(text.data(), text.size())));
}

void AtomicFile::commit(Overwrite overwrite)
{
    const std::string what = fmt::format("writing {}", display(m_destination));
    if (::_commit(m_fd.get()) != 0) // FlushFileBuffers
    {
        throw_errno(what);
    }
    m_fd.close(what);
    // Without MOVEFILE_REPLACE_EXISTING the move fails instead of replacing: atomic no-clobber.
    const DWORD flags =
        MOVEFILE_WRITE_THROUGH | (overwrite == Overwrite::yes ? MOVEFILE_REPLACE_EXISTING : 0U);
    if (::MoveFileExW(m_temp.c_str(), m_destination.c_str(), flags) == 0)
    {
        const DWORD err = ::GetLastError();
        if (err == ERROR_ALREADY_EXISTS || err == ERROR_FILE_EXISTS)
        {
            throw UserError(
                fmt::format("{} already exists", display(m_destination)),
                "remove it or choose another path");
        }
        throw win32::make_system_error(what, err);
    }
    m_committed = true;
    m_cleanup.reset();
}

void write_file_atomic(const fs::path& path, std::string_view content, unsigned mode)
{
    AtomicFile file(path, mode);
    file.write(content);
    file.commit();
}

std::string read_file(const fs::path& path, std::uintmax_t max_bytes)
{
    // FILE_FLAG_BACKUP_SEMANTICS opens directories too, so a directory is reported as one.
    const win32::UniqueHandle file(::CreateFileW(
        path.c_str(),
        GENERIC_READ,
        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
        nullptr,
        OPEN_EXISTING,
        FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_SEQUENTIAL_SCAN,
        nullptr));
    if (!file)
    {
        throw UserError(fmt::format(
            "cannot read {}: {}", display(path), win32::error_message(::GetLastError())));
    }
    BY_HANDLE_FILE_INFORMATION info = {};
    if (::GetFileInformationByHandle(file.get(), &info) == 0)
    {
        win32::throw_last_error(fmt::format("reading {}", display(path)));
    }
    if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
    {
        throw UserError(fmt::format("cannot read {}: it is a directory", display(path)));
    }
    std::string out;
    std::array<char, 65536> buf{};
    for (;;)
    {
        DWORD n = 0;
        if (::ReadFile(file.get(), buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr) == 0)
        {
            win32::throw_last_error(fmt::format("reading {}", display(path)));
        }
        if (n == 0)
        {
            break;
        }
        if (out.size() + n > max_bytes)
        {
            throw UserError(
                fmt::format("{} is larger than {}", display(path), human_bytes(max_bytes)));
        }
        out.append(buf.data(), n);
    }
    return out;
}

TempDir::TempDir(std::string_view prefix, const fs::path& parent)
{
    fs::path base = parent;
    if (base.empty())
    {
        std::wstring buffer(MAX_PATH + 1, L'\0');
        const DWORD n = ::GetTempPathW(static_cast<DWORD>(buffer.size()), buffer.data());
        if (n == 0 || n > buffer.size())
        {
            win32::throw_last_error("finding the temporary folder");
        }
        buffer.resize(n);
        base = buffer;
    }
    for (int attempt = 0;; ++attempt)
    {
        fs::path candidate =
            base / fs::path(win32::to_wide(fmt::format("{}-{}", prefix, random_suffix())));
        if (::CreateDirectoryW(candidate.c_str(), nullptr) != 0)
        {
            m_path = std::move(candidate);
            return;
        }
        const DWORD err = ::GetLastError();
        if (err != ERROR_ALREADY_EXISTS || attempt >= 8)
        {
            throw win32::make_system_error(
                fmt::format("creating a temporary directory in {}", display(base)), err);
        }
    }
}

TempDir::~TempDir()
{
    if (m_path.empty())
    {
        return;
    }
    std::error_code ec;
    // Read-only files cannot be deleted on Windows: clear the attribute first.
    for (auto it = fs::recursive_directory_iterator(m_path, ec);
         !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
    {
        fs::permissions(it->path(), fs::perms::owner_write, fs::perm_options::add, ec);
    }
    fs::remove_all(m_path, ec);
}

// Windows has no umask: new files take their folder's inherited ACL. The scope changes nothing.
UmaskScope::UmaskScope(unsigned mask)
    : m_saved(mask)
{
}

UmaskScope::~UmaskScope() = default;

} // namespace azl
