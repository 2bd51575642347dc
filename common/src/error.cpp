#include <azl/common/error.hpp>

#include <cerrno>
#include <cstring>

namespace azl
{

UserError::UserError(const std::string& message, std::string hint, ExitCode code)
    : std::runtime_error(message)
    , m_hint(std::move(hint))
    , m_code(code)
{
}

SystemError::SystemError(const std::string& what_we_did, const std::string& cause)
    : std::runtime_error(what_we_did + ": " + cause)
{
}

SystemError SystemError::from_errno(const std::string& what_we_did, int err)
{
    return {what_we_did, std::strerror(err)};
}

void throw_errno(const std::string& what_we_did)
{
    throw SystemError::from_errno(what_we_did, errno);
}

} // namespace azl
