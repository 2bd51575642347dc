// The platform-neutral half of `relay`: pipe names and GnuPG's socket files (libassuan's format).
#include <azl/common/error.hpp>
#include <azl/launcher/relay.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace L = azl::launcher;

TEST_CASE("relay: a pipe's name becomes its path, and paths and empty names are refused", "[relay]")
{
    CHECK(L::named_pipe_path("openssh-ssh-agent") == R"(\\.\pipe\openssh-ssh-agent)");
    CHECK(L::named_pipe_path(R"(\\.\pipe\openssh-ssh-agent)") == R"(\\.\pipe\openssh-ssh-agent)");
    CHECK_THROWS_AS(L::named_pipe_path(""), azl::UserError);
    CHECK_THROWS_WITH(L::named_pipe_path(R"(a\b)"), Catch::Contains("not a named pipe's name"));
    CHECK_THROWS_AS(L::named_pipe_path(std::string(257, 'x')), azl::UserError);
}

TEST_CASE("relay: GnuPG's socket file is a port, a line feed and a 16-byte nonce", "[relay]")
{
    // The nonce is any 16 bytes, line feeds and NULs included.
    const std::string nonce(
        "\x01\n\0\xff"
        "abcdefghijkl",
        16);
    const auto s = L::parse_assuan_socket("50123\n" + nonce, "S.gpg-agent.extra");
    CHECK(s.port == 50123);
    CHECK(std::string(s.nonce.begin(), s.nonce.end()) == nonce);
    CHECK(L::parse_assuan_socket("1\n" + nonce, "f").port == 1);
    for (const std::string& bad :
         {std::string("50123\n") + nonce.substr(0, 15), // short nonce
          "50123\n" + nonce + "x",                      // trailing bytes
          "\n" + nonce,                                 // no port
          "65536\n" + nonce,                            // out of range
          "0\n" + nonce,
          "5o123\n" + nonce,
          "!<socket >50123 s 01020304-05060708-090a0b0c-0d0e0f10" + std::string(1, '\0'),
          std::string()})
    {
        INFO(bad);
        CHECK_THROWS_WITH(
            L::parse_assuan_socket(bad, "S.gpg-agent.extra"),
            Catch::Contains("S.gpg-agent.extra is not a GnuPG socket file"));
    }
}
