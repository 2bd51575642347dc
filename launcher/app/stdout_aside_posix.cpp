#include "stdout_aside.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>

#include <unistd.h>

#include <cstdio>
#include <span>

namespace azl::app
{

namespace
{

// A copy of descriptor 1, once what stdio holds for it is written.
int flushed_stdout_copy()
{
    (void)std::fflush(stdout);
    return ::dup(STDOUT_FILENO);
}

} // namespace

StdoutAside::StdoutAside()
    : m_saved(flushed_stdout_copy())
{
    if (m_saved < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
    {
        throw_errno("redirecting standard output");
    }
}

StdoutAside::~StdoutAside()
{
    (void)std::fflush(stdout);
    (void)::dup2(m_saved, STDOUT_FILENO);
    (void)::close(m_saved);
}

void StdoutAside::write(std::string_view text) const
{
    write_all(m_saved, std::as_bytes(std::span(text.data(), text.size())), "standard output");
}

} // namespace azl::app
