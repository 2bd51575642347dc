#include "close_descriptor.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>

#include <cerrno>
#include <utility>

namespace azl
{

UniqueFd::UniqueFd(UniqueFd&& other) noexcept
    : m_fd(other.release())
{
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept
{
    if (this != &other)
    {
        if (m_fd >= 0)
        {
            detail::close_descriptor(m_fd);
        }
        m_fd = other.release();
    }
    return *this;
}

UniqueFd::~UniqueFd()
{
    if (m_fd >= 0)
    {
        detail::close_descriptor(m_fd);
    }
}

int UniqueFd::release() noexcept
{
    return std::exchange(m_fd, -1);
}

void UniqueFd::close(const std::string& what)
{
    if (m_fd < 0)
    {
        return;
    }
    // The descriptor is released even when closing fails (Linux documents it; EINTR included), so
    // a failed close is reported and never retried.
    if (detail::close_descriptor(std::exchange(m_fd, -1)) != 0 && errno != EINTR)
    {
        throw_errno(what);
    }
}

} // namespace azl
