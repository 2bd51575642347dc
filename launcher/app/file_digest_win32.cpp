#include "file_digest.hpp"

#include <azl/common/win32/win32.hpp>

namespace azl::app
{

std::string file_sha256(const std::filesystem::path& file)
{
    return win32::sha256_file(file, ProgressMode::off);
}

} // namespace azl::app
