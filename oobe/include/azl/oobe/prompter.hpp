#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace azl::oobe
{

// Talks to the person at the terminal. Throws Interrupted when they press Ctrl-C.
class Prompter
{
public:
    Prompter() = default;
    Prompter(const Prompter&) = delete;
    Prompter& operator=(const Prompter&) = delete;
    Prompter(Prompter&&) = delete;
    Prompter& operator=(Prompter&&) = delete;
    virtual ~Prompter() = default;

    // Shows one line.
    virtual void say(std::string_view line) = 0;
    // Asks a question and returns the answer without the newline; `suggestion` is shown in
    // brackets and returned for an empty answer.
    virtual std::string ask(std::string_view question, std::string_view suggestion) = 0;
    // Asks without echoing what is typed (passwords).
    virtual std::string ask_secret(std::string_view question) = 0;
};

// The controlling terminal (/dev/tty) when stdin is a TTY, else nullptr. Echo is restored whatever
// happens, Ctrl-C included.
std::unique_ptr<Prompter> open_terminal_prompter();

// Asks for the new user's name until it is valid, explaining each problem.
std::string
prompt_username(Prompter& prompter, const class UserDatabase& db, std::string_view suggestion);

// Asks for a password twice, without echo, until both match and are not empty.
std::string prompt_password(Prompter& prompter, std::string_view user);

} // namespace azl::oobe
