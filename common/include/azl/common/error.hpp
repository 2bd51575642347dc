#pragma once

#include <stdexcept>
#include <string>

namespace azl
{

// Process exit codes shared by every program of the project.
enum class ExitCode : int
{
    ok = 0,
    user_error = 1,
    usage = 2,
    internal = 3,
};

// An error the user can act on: printed as is, followed by the hint, exit code 1 unless told.
class UserError : public std::runtime_error
{
public:
    // `message` says what is wrong (naming the file); `hint` says what to do next (may be empty).
    explicit UserError(
        const std::string& message, std::string hint = {}, ExitCode code = ExitCode::user_error);

    // What the user should do next; empty when the message says it all.
    [[nodiscard]] const std::string& hint() const noexcept
    {
        return m_hint;
    }

    // The exit code the program ends with when this error reaches the top.
    [[nodiscard]] ExitCode exit_code() const noexcept
    {
        return m_code;
    }

private:
    std::string m_hint;
    ExitCode m_code;
};

// A failure of the system or a library, with what we were doing: "writing X: No space left".
class SystemError : public std::runtime_error
{
public:
    // `what_we_did` names the operation and its object; `cause` is the library's/OS's own message.
    SystemError(const std::string& what_we_did, const std::string& cause);

    // From an errno value: uses strerror's text as the cause.
    static SystemError from_errno(const std::string& what_we_did, int err);
};

// Throws SystemError::from_errno(what, errno) — for use right after a failed POSIX call.
[[noreturn]] void throw_errno(const std::string& what_we_did);

} // namespace azl
