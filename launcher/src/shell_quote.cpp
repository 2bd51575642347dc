#include <azl/launcher/shell_quote.hpp>

namespace azl::launcher
{

namespace
{

// Characters sh gives no meaning to anywhere in a word. Not '=': a first word "A=b" would be an
// assignment, not the command argv[0] names.
bool is_plain(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    {
        return true;
    }
    switch (c)
    {
    case '_':
    case '@':
    case '%':
    case '+':
    case ':':
    case ',':
    case '.':
    case '/':
    case '-':
        return true;
    default:
        return false;
    }
}

} // namespace

std::string shell_quote(std::string_view word)
{
    bool plain = !word.empty();
    for (const char c : word)
    {
        plain = plain && is_plain(c);
    }
    if (plain)
    {
        return std::string(word);
    }
    std::string out = "'";
    for (const char c : word)
    {
        if (c == '\'')
        {
            out += R"('\'')";
        }
        else
        {
            out += c;
        }
    }
    out += '\'';
    return out;
}

std::string shell_join(const std::vector<std::string>& argv)
{
    std::string out;
    for (const std::string& word : argv)
    {
        if (!out.empty())
        {
            out += ' ';
        }
        out += shell_quote(word);
    }
    return out;
}

} // namespace azl::launcher
