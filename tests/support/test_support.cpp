#include "test_support.hpp"

#include <fmt/format.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <utility>

namespace azl::test
{

Sandbox::Sandbox()
    : m_dir("azl-test")
{
}

std::string read_to_eof(int fd)
{
    std::string out;
    std::array<char, 4096> buf{};
    ssize_t n = 0;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0)
    {
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    return out;
}

std::filesystem::path
Sandbox::write(const std::string& relative, std::string_view content, unsigned mode) const
{
    auto file = path() / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out || ::chmod(file.c_str(), static_cast<mode_t>(mode)) != 0)
    {
        throw std::runtime_error("cannot write test file " + file.string());
    }
    return file;
}

std::string slurp(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
    {
        throw std::runtime_error("cannot read " + file.string());
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count_files(const std::filesystem::path& dir)
{
    return static_cast<std::size_t>(std::distance(
        std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
}

std::string host_elf()
{
    return slurp("/bin/dash");
}

SmallTmpfs::SmallTmpfs(std::filesystem::path dir, std::uint64_t bytes)
    : m_dir(std::move(dir))
{
    std::filesystem::create_directories(m_dir);
    if (::geteuid() != 0)
    {
        return;
    }
    // A private mount namespace once per process: later unshares would only nest.
    static const bool private_namespace =
        ::unshare(CLONE_NEWNS) == 0
        && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    if (!private_namespace)
    {
        throw std::runtime_error("cannot make a private mount namespace for a test tmpfs");
    }
    const std::string options = fmt::format("size={}", bytes);
    if (::mount("tmpfs", m_dir.c_str(), "tmpfs", 0, options.c_str()) != 0)
    {
        throw std::runtime_error("cannot mount a test tmpfs at " + m_dir.string());
    }
    m_mounted = true;
}

SmallTmpfs::~SmallTmpfs()
{
    if (m_mounted)
    {
        ::umount2(m_dir.c_str(), MNT_DETACH);
    }
}

} // namespace azl::test
