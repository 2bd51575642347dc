#pragma once

#include <string>
#include <string_view>

namespace azl::oobe
{

// Hashes a password with libcrypt's strongest method here: yescrypt ("$y$") when available, else
// SHA-512 ("$6$"), with a fresh random salt. Throws SystemError with libcrypt's reason on failure.
std::string hash_password(std::string_view plaintext);

// Whether `plaintext` matches the crypt(3) `hash`.
bool verify_password(std::string_view plaintext, std::string_view hash);

} // namespace azl::oobe
