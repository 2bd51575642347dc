#include "interrupt.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/prompter.hpp>
#include <azl/oobe/users.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>

namespace azl::oobe
{

namespace
{

// Turns terminal echo off until destruction (and on any exit path: Ctrl-C included).
class EchoOff
{
public:
    explicit EchoOff(int fd)
        : m_fd(fd)
    {
        if (::tcgetattr(fd, &m_saved) != 0)
        {
            throw_errno("reading the terminal settings");
        }
        struct termios quiet = m_saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= static_cast<tcflag_t>(ECHONL);
        if (::tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
        {
            throw_errno("turning terminal echo off");
        }
    }

    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;
    EchoOff(EchoOff&&) = delete;
    EchoOff& operator=(EchoOff&&) = delete;

    ~EchoOff()
    {
        ::tcsetattr(m_fd, TCSAFLUSH, &m_saved);
    }

private:
    int m_fd;
    struct termios m_saved = {};
};

class TerminalPrompter final : public Prompter
{
public:
    explicit TerminalPrompter(UniqueFd fd)
        : m_fd(std::move(fd))
    {
    }

    void say(std::string_view line) override
    {
        write_text(fmt::format("{}\n", line));
    }

    std::string ask(std::string_view question, std::string_view suggestion) override
    {
        write_text(
            suggestion.empty() ? fmt::format("{}: ", question)
                               : fmt::format("{} [{}]: ", question, suggestion));
        auto answer = read_line();
        return answer.empty() ? std::string(suggestion) : answer;
    }

    std::string ask_secret(std::string_view question) override
    {
        write_text(fmt::format("{}: ", question));
        const EchoOff quiet(m_fd.get());
        return read_line();
    }

private:
    void write_text(std::string_view text)
    {
        write_all(m_fd.get(), std::as_bytes(std::span(text.data(), text.size())), "the terminal");
    }

    // Reads up to the newline; a signal (Ctrl-C) or the end of input stops the prompt.
    std::string read_line()
    {
        std::string line;
        while (true)
        {
            char c = 0;
            const auto n = ::read(m_fd.get(), &c, 1);
            if (n < 0 && errno == EINTR)
            {
                throw_if_interrupted();
                continue;
            }
            if (n < 0)
            {
                throw_errno("reading from the terminal");
            }
            if (n == 0)
            {
                throw UserError(
                    "the terminal closed before setup was complete", "it runs again next launch");
            }
            if (c == '\n')
            {
                break;
            }
            if (c != '\r')
            {
                line.push_back(c);
            }
        }
        throw_if_interrupted();
        return line;
    }

    UniqueFd m_fd;
};

} // namespace

std::unique_ptr<Prompter> open_terminal_prompter()
{
    if (::isatty(STDIN_FILENO) == 0)
    {
        return nullptr;
    }
    UniqueFd fd(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
    if (!fd)
    {
        return nullptr;
    }
    return std::make_unique<TerminalPrompter>(std::move(fd));
}

std::string prompt_username(Prompter& prompter, const UserDatabase& db, std::string_view suggestion)
{
    while (true)
    {
        auto name = prompter.ask("New user name", suggestion);
        const auto problem = new_username_problem(name, db);
        if (problem.empty())
        {
            return name;
        }
        prompter.say(fmt::format("  {}. Try again.", problem));
    }
}

std::string prompt_password(Prompter& prompter, std::string_view user)
{
    while (true)
    {
        auto first = prompter.ask_secret(fmt::format("New password for {}", user));
        if (first.empty())
        {
            prompter.say("  The password is empty: sudo and sign-in need one. Try again.");
            continue;
        }
        auto second = prompter.ask_secret("Retype the password");
        if (first == second)
        {
            ::explicit_bzero(second.data(), second.size());
            return first;
        }
        ::explicit_bzero(first.data(), first.size());
        ::explicit_bzero(second.data(), second.size());
        prompter.say("  The passwords do not match. Try again.");
    }
}

} // namespace azl::oobe
