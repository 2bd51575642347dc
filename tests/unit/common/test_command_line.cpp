#include <azl/common/command_line.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace
{

// CommandLineToArgvW's rules (as documented for the Microsoft C runtime since 2008), written out
// independently of the quoting code: the test oracle.
std::vector<std::string> parse_windows_command_line(const std::string& line)
{
    std::vector<std::string> args;
    std::size_t i = 0;
    const std::size_t n = line.size();
    // argv[0]: up to the next quote when it starts with one, else up to a blank; no escapes.
    std::string program;
    if (i < n && line[i] == '"')
    {
        const auto close = line.find('"', 1);
        program = line.substr(1, close - 1);
        i = close == std::string::npos ? n : close + 1;
    }
    else
    {
        while (i < n && line[i] != ' ' && line[i] != '\t')
        {
            program += line[i++];
        }
    }
    args.push_back(program);
    for (;;)
    {
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
        {
            ++i;
        }
        if (i >= n)
        {
            break;
        }
        std::string arg;
        bool quoted = false;
        while (i < n && (quoted || (line[i] != ' ' && line[i] != '\t')))
        {
            if (line[i] == '\\')
            {
                std::size_t k = 0;
                while (i < n && line[i] == '\\')
                {
                    ++k;
                    ++i;
                }
                if (i < n && line[i] == '"')
                {
                    arg.append(k / 2, '\\');
                    if (k % 2 == 1)
                    {
                        arg += '"';
                        ++i;
                    }
                }
                else
                {
                    arg.append(k, '\\');
                }
                continue;
            }
            if (line[i] == '"')
            {
                if (quoted && i + 1 < n && line[i + 1] == '"')
                {
                    arg += '"';
                    i += 2;
                    continue;
                }
                quoted = !quoted;
                ++i;
                continue;
            }
            arg += line[i++];
        }
        args.push_back(arg);
    }
    return args;
}

} // namespace

TEST_CASE("quote_windows_arg leaves plain words alone and quotes the rest", "[command_line]")
{
    CHECK(azl::quote_windows_arg("--install") == "--install");
    CHECK(azl::quote_windows_arg(R"(C:\Users\me\a.wsl)") == R"(C:\Users\me\a.wsl)");
    CHECK(azl::quote_windows_arg("") == R"("")");
    CHECK(azl::quote_windows_arg("a b") == R"("a b")");
    CHECK(azl::quote_windows_arg("tab\there") == "\"tab\there\"");
    CHECK(azl::quote_windows_arg(R"(say "hi")") == R"("say \"hi\"")");
    // Backslashes are literal unless a quote follows: before the closing quote they are doubled.
    CHECK(azl::quote_windows_arg(R"(C:\Program Files\)") == R"("C:\Program Files\\")");
    CHECK(azl::quote_windows_arg(R"(a\\"b)") == R"("a\\\\\"b")");
    CHECK(azl::quote_windows_arg(R"(a\b c)") == R"("a\b c")");
    CHECK(azl::quote_windows_arg("Zoë Ω") == "\"Zoë Ω\"");
}

TEST_CASE("windows_command_line joins argv as CreateProcessW takes it", "[command_line]")
{
    CHECK(
        azl::windows_command_line(
            {R"(C:\Windows\System32\wsl.exe)",
             "--install",
             "--from-file",
             R"(C:\Users\Zoë\My Images\AzureLinux.wsl)",
             "--name",
             "AzureLinux"})
        == R"(C:\Windows\System32\wsl.exe --install --from-file "C:\Users\Zoë\My Images\AzureLinux.wsl" --name AzureLinux)");
    // The program name is quoted when it has blanks, never escaped.
    CHECK(
        azl::windows_command_line({R"(C:\Program Files\WSL\wsl.exe)", "-l"})
        == R"("C:\Program Files\WSL\wsl.exe" -l)");
    CHECK_THROWS_AS(azl::windows_command_line({}), std::invalid_argument);
    CHECK_THROWS_AS(azl::windows_command_line({"a\"b.exe"}), std::invalid_argument);
}

TEST_CASE("windows_command_line round-trips through the CommandLineToArgvW rules", "[command_line]")
{
    const std::vector<std::string> tricky = {
        "",
        " ",
        "plain",
        "two words",
        "\"",
        "\"\"",
        "\\",
        "\\\\",
        "\\\"",
        "trailing\\",
        "trailing space\\",
        R"(\\server\share\dir with space\)",
        R"(mid\\"dle)",
        "a\"b c\"d",
        "new\nline",
        "tab\t",
        "-c",
        "echo 'single' \"double\" $HOME `date`",
        "ünïcödé ✓ 名前",
        "%PATH%",
        "^&|<>()",
    };
    std::vector<std::string> argv = {R"(C:\Program Files\Tool\tool.exe)"};
    argv.insert(argv.end(), tricky.begin(), tricky.end());
    CHECK(parse_windows_command_line(azl::windows_command_line(argv)) == argv);
    for (const auto& arg : tricky)
    {
        INFO(arg);
        CHECK(
            parse_windows_command_line("x.exe " + azl::quote_windows_arg(arg))
            == std::vector<std::string>{"x.exe", arg});
    }
}
