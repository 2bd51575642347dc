#pragma once
// The SHA-256 of a file for the commands that record one (image manifest): the image engine's
// OpenSSL hasher on Linux, Windows' own CNG in azurelinux.exe (file_digest_*.cpp).

#include <filesystem>
#include <string>

namespace azl::app
{

// Lowercase hex; a missing or unreadable file is a UserError naming it.
std::string file_sha256(const std::filesystem::path& file);

} // namespace azl::app
