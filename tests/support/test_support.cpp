#include "test_support.hpp"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace azl::test
{

Sandbox::Sandbox()
    : m_dir("azl-test")
{
}

std::filesystem::path
Sandbox::write(const std::string& relative, std::string_view content, unsigned mode) const
{
    const auto file = path() / relative;
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

} // namespace azl::test
