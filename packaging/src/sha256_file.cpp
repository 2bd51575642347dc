// Streaming SHA-256 of a file over OpenSSL's EVP interface.

#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/packaging/manifest.hpp>

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

namespace azl::packaging
{

namespace
{

// OpenSSL keeps its reasons on a per-thread queue; take the oldest one as the cause.
[[noreturn]] void throw_openssl(const std::string& what)
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

std::string to_hex(const unsigned char* digest, unsigned int size)
{
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

} // namespace

std::string sha256_file(const std::filesystem::path& file)
{
    const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
    {
        const int err = errno;
        throw UserError(
            fmt::format("cannot read {}: {}", file.string(), std::strerror(err)),
            "give the path of the .wsl image the URL serves");
    }

    struct stat st
    {
    };

    if (::fstat(fd.get(), &st) != 0)
    {
        throw_errno("examining " + file.string());
    }
    if (!S_ISREG(st.st_mode))
    {
        throw UserError(
            fmt::format("{} is not a regular file", file.string()),
            "give the path of the .wsl image the URL serves");
    }
    const UniqueCPtr<EVP_MD_CTX, &EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
    if (!ctx)
    {
        throw_openssl("creating a SHA-256 context");
    }
    if (EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    {
        throw_openssl("initializing SHA-256");
    }
    const std::string what = "computing the SHA-256 of " + file.string();
    std::vector<unsigned char> buffer(1U << 20U);
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
        if (EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(n)) != 1)
        {
            throw_openssl(what);
        }
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) != 1)
    {
        throw_openssl(what);
    }
    return to_hex(digest.data(), size);
}

} // namespace azl::packaging
