#pragma once
// The terminal operations Progress needs, one implementation per platform (posix/, win32/).

#include <string>

namespace azl::detail
{

// Whether stderr is a terminal a bar can be drawn on (prepares it for drawing when it is).
bool progress_terminal_available();

// The terminal's width in columns (80 when unknown).
int progress_terminal_width();

// Replaces the current line of stderr with `line` (shorter than the width), flushed.
void progress_terminal_draw(const std::string& line);

// Erases the current line of stderr, flushed.
void progress_terminal_clear();

} // namespace azl::detail
