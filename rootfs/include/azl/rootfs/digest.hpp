#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace azl::rootfs
{

// The digest algorithms images use.
enum class HashAlgorithm
{
    sha256,
    sha512,
};

// Hashes bytes as they pass (OpenSSL EVP); hex_digest() ends the computation.
class Hasher
{
public:
    // Throws SystemError with OpenSSL's message when the digest cannot be set up.
    explicit Hasher(HashAlgorithm algorithm = HashAlgorithm::sha256);
    ~Hasher();
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;
    Hasher(Hasher&& other) noexcept;
    Hasher& operator=(Hasher&& other) noexcept;

    // Adds bytes to the hash.
    void update(std::span<const std::byte> data);

    // Finishes and returns the lowercase hex digest; update() must not be called afterwards.
    std::string hex_digest();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// The SHA-256 of a regular file as lowercase hex, streamed. Throws UserError naming the file when
// it cannot be read or is not a regular file.
std::string sha256_file(const std::filesystem::path& file);

} // namespace azl::rootfs
