#include "sha256.hpp"

#include <azl/common/error.hpp>

#include <openssl/err.h>

#include <array>

namespace azl::rootfs::detail
{

namespace
{

// OpenSSL keeps its reasons on a per-thread queue; take the oldest one as the cause.
[[noreturn]] void throw_openssl(const char* what)
{
    std::array<char, 256> buf{};
    const unsigned long code = ERR_get_error();
    if (code == 0)
    {
        throw SystemError(what, "unknown OpenSSL error");
    }
    ERR_error_string_n(code, buf.data(), buf.size());
    ERR_clear_error();
    throw SystemError(what, buf.data());
}

} // namespace

Sha256::Sha256()
    : m_ctx(EVP_MD_CTX_new())
{
    if (!m_ctx)
    {
        throw_openssl("creating a SHA-256 context");
    }
    if (EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1)
    {
        throw_openssl("initializing SHA-256");
    }
}

void Sha256::update(std::span<const std::byte> data)
{
    if (EVP_DigestUpdate(m_ctx.get(), data.data(), data.size()) != 1)
    {
        throw_openssl("computing SHA-256");
    }
}

std::string Sha256::hex_digest()
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(m_ctx.get(), digest.data(), &size) != 1)
    {
        throw_openssl("finishing SHA-256");
    }
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string hex;
    hex.reserve(static_cast<std::size_t>(size) * 2);
    for (unsigned int i = 0; i < size; ++i)
    {
        hex.push_back(kHex[digest[i] >> 4U]);
        hex.push_back(kHex[digest[i] & 0x0fU]);
    }
    return hex;
}

} // namespace azl::rootfs::detail
