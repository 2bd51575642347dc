#include "file_digest.hpp"

#include <azl/rootfs/digest.hpp>

namespace azl::app
{

std::string file_sha256(const std::filesystem::path& file)
{
    return rootfs::sha256_file(file);
}

} // namespace azl::app
