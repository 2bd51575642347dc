#pragma once
// Standard output moved aside for a scope, for commands whose stdout is a protocol (`dsc`): while
// one exists, whatever is written to stdout — ours, and that of the programs we start, such as the
// guest's first-run setup — goes to stderr; only write() reaches the real stdout.
// stdout_aside_posix.cpp: dup/dup2; stdout_aside_win32.cpp: the CRT's descriptors and
// SetStdHandle, which WslLaunchInteractive and child processes take their handles from.

#include <string_view>

namespace azl::app
{

class StdoutAside
{
public:
    StdoutAside();
    StdoutAside(const StdoutAside&) = delete;
    StdoutAside& operator=(const StdoutAside&) = delete;
    StdoutAside(StdoutAside&&) = delete;
    StdoutAside& operator=(StdoutAside&&) = delete;
    ~StdoutAside();

    // Writes `text` to the real standard output.
    void write(std::string_view text) const;

private:
    int m_saved = -1; // the real stdout's descriptor
#ifdef _WIN32
    void* m_saved_handle = nullptr; // the real STD_OUTPUT_HANDLE
#endif
};

} // namespace azl::app
