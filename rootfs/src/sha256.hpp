#pragma once
// Streaming SHA-256 over OpenSSL's EVP interface. Private header.

#include <azl/common/c_ptr.hpp>

#include <openssl/evp.h>

#include <cstddef>
#include <span>
#include <string>

namespace azl::rootfs::detail
{

// Hashes bytes as they pass; hex_digest() ends the computation.
class Sha256
{
public:
    // Throws SystemError with OpenSSL's message when the digest cannot be set up.
    Sha256();

    // Adds bytes to the hash.
    void update(std::span<const std::byte> data);

    // Finishes and returns the lowercase hex digest; update() must not be called afterwards.
    std::string hex_digest();

private:
    UniqueCPtr<EVP_MD_CTX, &EVP_MD_CTX_free> m_ctx;
};

} // namespace azl::rootfs::detail
