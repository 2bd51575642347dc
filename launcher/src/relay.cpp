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

} // namespace azl::launcher
