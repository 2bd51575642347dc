#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace azl
{

// Whether a progress bar may be drawn.
enum class ProgressMode
{
    auto_detect, // a bar when stderr is a terminal
    off,         // never (--quiet, --json, tests)
};

// Reports the progress of one long operation (bytes or items) as a bar on a TTY's stderr; silent
// otherwise. Redraws at most ~10 times a second, so calling advance() per block is cheap.
class Progress
{
public:
    // `label` precedes the bar ("Writing AzureLinux.wsl"); `total` 0 means unknown.
    Progress(std::string label, std::uint64_t total, ProgressMode mode = ProgressMode::auto_detect);
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    Progress(Progress&&) = delete;
    Progress& operator=(Progress&&) = delete;
    // Clears the bar line.
    ~Progress();

    // Adds `amount` to the done count.
    void advance(std::uint64_t amount);
    // Sets the done count.
    void set(std::uint64_t done);
    // Sets the total when it becomes known.
    void set_total(std::uint64_t total);

    // Whether a bar is being drawn.
    [[nodiscard]] bool active() const noexcept
    {
        return m_active;
    }

private:
    void draw(bool force);

    std::string m_label;
    std::uint64_t m_total;
    std::uint64_t m_done = 0;
    bool m_active;
    std::chrono::steady_clock::time_point m_last_draw;
};

} // namespace azl
