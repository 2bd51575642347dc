#pragma once
// POSIX sh quoting, for backends whose transport is a command line run by /bin/sh -c (WSL). See the
// quoting rule in backend.hpp: argv is quoted here and nowhere else.

#include <string>
#include <string_view>
#include <vector>

namespace azl::launcher
{

// One word for POSIX sh: returned as is when it holds only characters sh never treats specially
// ([A-Za-z0-9_@%+=:,./-], not empty), otherwise in single quotes with each ' written as '\''.
std::string shell_quote(std::string_view word);

// The words quoted with shell_quote() and joined by single spaces: sh -c of the result execs
// exactly `argv`.
std::string shell_join(const std::vector<std::string>& argv);

} // namespace azl::launcher
