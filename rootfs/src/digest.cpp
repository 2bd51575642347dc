#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/openssl_error.hpp>
#include <azl/common/text.hpp>
#include <azl/rootfs/digest.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <span>
#include <vector>

namespace azl::rootfs
{

namespace
{

[[noreturn]] void throw_openssl(const char* what)
{
    throw SystemError(what, openssl_error_text());
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
    return hex_encode(std::span(digest).first(size));
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
