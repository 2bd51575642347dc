#include <azl/common/command_line.hpp>

#include <stdexcept>

namespace azl
{

std::string quote_windows_arg(std::string_view arg)
{
    if (!arg.empty() && arg.find_first_of(" \t\n\v\"") == std::string_view::npos)
    {
        return std::string(arg);
    }
    std::string out = "\"";
    std::size_t backslashes = 0;
    for (const char c : arg)
    {
        if (c == '\\')
        {
            ++backslashes;
            continue;
        }
        if (c == '"')
        {
            // Backslashes before a quote are escapes: double them, then escape the quote itself.
            out.append(backslashes * 2 + 1, '\\');
        }
        else
        {
            out.append(backslashes, '\\');
        }
        backslashes = 0;
        out += c;
    }
    // The closing quote follows: the backslashes before it must not escape it.
    out.append(backslashes * 2, '\\');
    out += '"';
    return out;
}

std::string windows_command_line(const std::vector<std::string>& argv)
{
    if (argv.empty())
    {
        throw std::invalid_argument("windows_command_line: empty argv");
    }
    const std::string& program = argv.front();
    if (program.find('"') != std::string::npos)
    {
        throw std::invalid_argument("windows_command_line: a program name cannot contain a quote");
    }
    std::string line = program.empty() || program.find_first_of(" \t") != std::string::npos
                           ? "\"" + program + "\""
                           : program;
    for (std::size_t i = 1; i < argv.size(); ++i)
    {
        line += ' ';
        line += quote_windows_arg(argv[i]);
    }
    return line;
}

} // namespace azl
