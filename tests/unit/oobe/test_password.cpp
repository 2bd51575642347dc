#include <azl/oobe/answers.hpp>
#include <azl/oobe/password.hpp>

#include <catch2/catch.hpp>

#include <crypt.h>

#include <string>

using namespace azl::oobe;

TEST_CASE("password hash: yescrypt (or SHA-512), salted, verified by crypt(3)", "[oobe]")
{
    const auto hash = hash_password("correct horse");
    INFO(hash);
    // libxcrypt on Debian 12 and Azure Linux 3 has yescrypt: the preferred method must be used.
    CHECK(hash.starts_with("$y$"));
    CHECK(is_crypt_hash(hash));
    CHECK(verify_password("correct horse", hash));
    CHECK_FALSE(verify_password("correct horsE", hash));
    CHECK_FALSE(verify_password("", hash));
    // The system's own crypt() agrees: what chpasswd -e stores is what login checks.
    const char* again = crypt("correct horse", hash.c_str());
    REQUIRE(again != nullptr);
    CHECK(std::string(again) == hash);
    // A fresh salt each time.
    CHECK(hash_password("correct horse") != hash);
}

TEST_CASE("password hash: a given SHA-512 hash verifies", "[oobe]")
{
    const char* sha512 = crypt("pw", "$6$saltsaltsalt$");
    REQUIRE(sha512 != nullptr);
    CHECK(is_crypt_hash(sha512));
    CHECK(verify_password("pw", sha512));
    CHECK_FALSE(is_crypt_hash("pw"));
    CHECK_FALSE(is_crypt_hash("$1$abc$def")); // MD5: not accepted
    CHECK_FALSE(is_crypt_hash("$6$a b$cdefghijklmnopqrstu"));
}
