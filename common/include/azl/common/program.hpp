#pragma once

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace azl
{

// How a program's main() ends when its work throws. UserError always ends with its own
// exit_code(); these say what the other two kinds of failure end with.
struct ExitCodes
{
    int system_error = static_cast<int>(ExitCode::user_error); // SystemError: the OS or a library
    int unexpected = static_cast<int>(ExitCode::internal);     // any other exception: a bug
};

// The one top-level catch of every program: runs `work` and returns its exit code. An exception it
// lets through is printed on stderr as one line, "NAME: message" ("NAME: internal error: …" for an
// exception that is neither a UserError nor a SystemError), then "  hint: …" when a UserError has
// a hint, and ends with the exit code `codes` gives it.
int run_program(std::string_view name, const std::function<int()>& work, ExitCodes codes = {});

// The verbosity the shared -v/-vv and -q flags ask for: -q wins; each -v adds a level.
Verbosity verbosity_from_flags(int verbose, bool quiet) noexcept;

// The program's arguments as UTF-8, argv[0] first. On Windows they are read with GetCommandLineW
// and CommandLineToArgvW: the ANSI argv main() gets cannot hold every file name. Elsewhere, argv.
std::vector<std::string> utf8_arguments(int argc, char** argv);

// Makes text the program prints reach the terminal as UTF-8: the console's output code page on
// Windows, LC_CTYPE C.UTF-8 (else the environment's) elsewhere. Executables call it once.
void setup_utf8_console();

// The running program's own file (/proc/self/exe; GetModuleFileNameW on Windows); empty when the
// system cannot tell. Programs find what ships beside them (guest programs, images) through it.
std::filesystem::path executable_path();

// Whether standard input and standard output are both a terminal (a console on Windows): may we ask
// questions and draw for a person.
bool standard_streams_are_terminal();

// While it lives, standard output goes where standard error goes: ours (the C runtime's descriptor
// 1) and what the programs we start inherit (on Windows their standard output handle, which
// SetStdHandle changes, not the C runtime). For `--json` commands whose children print.
class StdoutToStderr
{
public:
    explicit StdoutToStderr(bool enabled);
    StdoutToStderr(const StdoutToStderr&) = delete;
    StdoutToStderr& operator=(const StdoutToStderr&) = delete;
    StdoutToStderr(StdoutToStderr&&) = delete;
    StdoutToStderr& operator=(StdoutToStderr&&) = delete;
    ~StdoutToStderr();

    // Standard output back where it was; idempotent.
    void restore() noexcept;

private:
    int m_saved_fd = -1; // a duplicate of descriptor 1, while redirected
    [[maybe_unused]] void* m_saved_handle = nullptr; // Windows only: the handle, while redirected
};

} // namespace azl
