#include <azl/common/error.hpp>
#include <azl/launcher/relay.hpp>

#include <fmt/format.h>

namespace azl::launcher
{

std::string named_pipe_path(std::string_view name)
{
    constexpr std::string_view kPrefix = R"(\\.\pipe\)";
    if (name.substr(0, kPrefix.size()) == kPrefix)
    {
        name.remove_prefix(kPrefix.size());
    }
    // Windows allows up to 256 characters after the prefix, and any but a backslash.
    if (name.empty() || name.size() > 256 || name.find('\\') != std::string_view::npos)
    {
        throw UserError(
            fmt::format("\"{}\" is not a named pipe's name", name),
            R"(give the name after \\.\pipe\, e.g. openssh-ssh-agent)");
    }
    return fmt::format("{}{}", kPrefix, name);
}

AssuanSocket parse_assuan_socket(std::string_view content, std::string_view file)
{
    const auto bad = [file]
    {
        return UserError(
            fmt::format(
                "{} is not a GnuPG socket file (a port, a line feed, a 16-byte nonce)", file),
            "is GnuPG's agent running on Windows? `gpgconf --launch gpg-agent` starts it");
    };
    const auto nl = content.find('\n');
    if (nl == std::string_view::npos || nl == 0 || nl > 5 || content.size() != nl + 1 + 16)
    {
        throw bad();
    }
    unsigned port = 0;
    for (const char c : content.substr(0, nl))
    {
        if (c < '0' || c > '9')
        {
            throw bad();
        }
        port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535)
    {
        throw bad();
    }
    AssuanSocket out;
    out.port = static_cast<std::uint16_t>(port);
    for (std::size_t i = 0; i < out.nonce.size(); ++i)
    {
        out.nonce.at(i) = static_cast<unsigned char>(content[nl + 1 + i]);
    }
    return out;
}

} // namespace azl::launcher
