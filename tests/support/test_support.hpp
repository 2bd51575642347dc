#pragma once
// Helpers shared by the unit tests.

#include <azl/common/fs.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace azl::test
{

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
    std::filesystem::path
    write(const std::string& relative, std::string_view content, unsigned mode = 0644) const;

private:
    TempDir m_dir;
};

// The whole content of a file.
std::string slurp(const std::filesystem::path& file);

} // namespace azl::test
