#include "progress_terminal.hpp"

#include <azl/common/fs.hpp>
#include <azl/common/progress.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace azl
{

Progress::Progress(std::string label, std::uint64_t total, ProgressMode mode)
    : m_label(std::move(label))
    , m_total(total)
    , m_active(mode == ProgressMode::auto_detect && detail::progress_terminal_available())
{
    draw(true);
}

Progress::~Progress()
{
    if (m_active)
    {
        detail::progress_terminal_clear();
    }
}

void Progress::advance(std::uint64_t amount)
{
    m_done += amount;
    draw(false);
}

void Progress::set(std::uint64_t done)
{
    m_done = done;
    draw(false);
}

void Progress::set_total(std::uint64_t total)
{
    m_total = total;
    draw(false);
}

void Progress::draw(bool force)
{
    if (!m_active)
    {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - m_last_draw < std::chrono::milliseconds(100))
    {
        return;
    }
    m_last_draw = now;
    const int width = detail::progress_terminal_width();
    std::string line;
    if (m_total > 0)
    {
        const double fraction =
            std::min(1.0, static_cast<double>(m_done) / static_cast<double>(m_total));
        const std::string tail = fmt::format(
            " {:3.0f}% {}/{}", fraction * 100.0, human_bytes(m_done), human_bytes(m_total));
        const int bar = std::max(10, width - static_cast<int>(m_label.size() + tail.size()) - 4);
        const int filled = static_cast<int>(fraction * bar);
        line = fmt::format(
            "{} [{}{}]{}",
            m_label,
            std::string(static_cast<std::size_t>(filled), '#'),
            std::string(static_cast<std::size_t>(bar - filled), '.'),
            tail);
    }
    else
    {
        line = fmt::format("{} {}", m_label, human_bytes(m_done));
    }
    if (static_cast<int>(line.size()) >= width)
    {
        line.resize(static_cast<std::size_t>(width - 1));
    }
    detail::progress_terminal_draw(line);
}

} // namespace azl
