#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/rootfs/digest.hpp>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace azl::rootfs
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

struct Hasher::Impl
{
    UniqueCPtr<EVP_MD_CTX, &EVP_MD_CTX_free> ctx;
};

Hasher::Hasher(HashAlgorithm algorithm)
    : m_impl(
        std::make_unique<Impl>(Impl{UniqueCPtr<EVP_MD_CTX, &EVP_MD_CTX_free>(EVP_MD_CTX_new())}))
{
    if (!m_impl->ctx)
    {
        throw_openssl("creating a digest context");
    }
    const EVP_MD* md = algorithm == HashAlgorithm::sha512 ? EVP_sha512() : EVP_sha256();
    if (EVP_DigestInit_ex(m_impl->ctx.get(), md, nullptr) != 1)
    {
        throw_openssl("initializing a digest");
    }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::span<const std::byte> data)
{
    if (EVP_DigestUpdate(m_impl->ctx.get(), data.data(), data.size()) != 1)
    {
        throw_openssl("computing a digest");
    }
}

std::string Hasher::hex_digest()
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(m_impl->ctx.get(), digest.data(), &size) != 1)
    {
        throw_openssl("finishing a digest");
    }
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string hex;
    hex.reserve(static_cast<std::size_t>(size) * 2);
    for (unsigned int i = 0; i < size; ++i)
    {
        hex.push_back(kHex[digest.at(i) >> 4U]);
        hex.push_back(kHex[digest.at(i) & 0x0fU]);
    }
    return hex;
}

std::string sha256_file(const std::filesystem::path& file)
{
    const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
    {
        const int err = errno;
        throw UserError(fmt::format("cannot read {}: {}", file.string(), std::strerror(err)));
    }
    struct stat st = {};
    if (::fstat(fd.get(), &st) != 0)
    {
        throw_errno("examining " + file.string());
    }
    if (!S_ISREG(st.st_mode))
    {
        throw UserError(fmt::format("{} is not a regular file", file.string()));
    }
    Hasher hasher;
    std::vector<std::byte> buffer(1U << 20U);
    for (;;)
    {
        const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            throw_errno("reading " + file.string());
        }
        if (n == 0)
        {
            break;
        }
        hasher.update(std::span(buffer.data(), static_cast<std::size_t>(n)));
    }
    return hasher.hex_digest();
}

} // namespace azl::rootfs
