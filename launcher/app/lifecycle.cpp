// The glue every lifecycle command shares: the backend, the terminal, the --name option.
#include "context.hpp"

#include <azl/common/program.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <system_error>

namespace azl::app
{

namespace
{

// Questions and status lines on the real terminal.
class TerminalConsole final : public launcher::Console
{
public:
    explicit TerminalConsole(bool quiet)
        : m_quiet(quiet)
    {
    }

    bool interactive() override
    {
        return standard_streams_are_terminal();
    }

    bool confirm(std::string_view question) override
    {
        fmt::print(stderr, "{} [y/N] ", question);
        (void)std::fflush(stderr); // stderr is unbuffered: nothing can be left to fail
        std::string answer;
        if (!std::getline(std::cin, answer))
        {
            return false;
        }
        return answer == "y" || answer == "Y" || answer == "yes" || answer == "Yes";
    }

    void status(std::string_view line) override
    {
        if (!m_quiet)
        {
            fmt::print(stderr, "{}\n", line);
        }
    }

private:
    bool m_quiet;
};

} // namespace

launcher::Backend& Context::backend()
{
    if (!m_backend)
    {
        m_backend = launcher::make_backend();
    }
    return *m_backend;
}

launcher::CommandEnv Context::command_env(bool json)
{
    if (!m_console)
    {
        // With --json, stdout is JSON only; status lines go to stderr anyway.
        m_console = std::make_unique<TerminalConsole>(quiet);
    }
    return {
        .console = *m_console,
        .exe_dir = azl::executable_path().parent_path(),
        .progress = progress(json)};
}

void add_name_option(CLI::App& cmd, std::string& name)
{
    cmd.add_option("-n,--name", name, "The distribution (default: AzureLinux)");
}

} // namespace azl::app
