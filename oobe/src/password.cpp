#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/oobe/password.hpp>

#include <crypt.h>
#include <string.h> // NOLINT(modernize-deprecated-headers): explicit_bzero is only in <string.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

namespace azl::oobe
{

namespace
{

void free_chars(char* p) noexcept
{
    std::free(p); // NOLINT(cppcoreguidelines-no-malloc): crypt_gensalt_ra allocates with malloc
}

using MallocString = UniqueCPtr<char, &free_chars>;

// crypt_data is ~32 KiB: on the heap, and wiped afterwards (it held the password).
struct CryptScratch
{
    CryptScratch()
        : data(std::make_unique<crypt_data>())
    {
    }

    CryptScratch(const CryptScratch&) = delete;
    CryptScratch& operator=(const CryptScratch&) = delete;
    CryptScratch(CryptScratch&&) = delete;
    CryptScratch& operator=(CryptScratch&&) = delete;

    ~CryptScratch()
    {
        explicit_bzero(data.get(), sizeof(crypt_data));
    }

    std::unique_ptr<crypt_data> data;
};

// A salt for `prefix` with libcrypt's default cost and random bytes from the OS.
std::optional<std::string> make_salt(const char* prefix)
{
    errno = 0;
    MallocString salt(crypt_gensalt_ra(prefix, 0, nullptr, 0));
    if (!salt || salt.get()[0] == '*')
    {
        return std::nullopt;
    }
    return std::string(salt.get());
}

} // namespace

std::string hash_password(std::string_view plaintext)
{
    auto salt = make_salt("$y$");
    if (!salt)
    {
        salt = make_salt("$6$");
    }
    if (!salt)
    {
        throw SystemError::from_errno("making a password salt (yescrypt, SHA-512)", errno);
    }
    std::string phrase(plaintext);
    CryptScratch scratch;
    errno = 0;
    const char* hashed =
        crypt_rn(phrase.c_str(), salt->c_str(), scratch.data.get(), sizeof(crypt_data));
    const int err = errno;
    explicit_bzero(phrase.data(), phrase.size());
    std::string out = hashed != nullptr && hashed[0] != '*' ? std::string(hashed) : std::string();
    if (out.empty())
    {
        throw SystemError::from_errno("hashing the password with libcrypt", err);
    }
    return out;
}

bool verify_password(std::string_view plaintext, std::string_view hash)
{
    std::string phrase(plaintext);
    const std::string setting(hash);
    CryptScratch scratch;
    const char* hashed =
        crypt_rn(phrase.c_str(), setting.c_str(), scratch.data.get(), sizeof(crypt_data));
    explicit_bzero(phrase.data(), phrase.size());
    return hashed != nullptr && hashed[0] != '*' && setting == hashed;
}

} // namespace azl::oobe
