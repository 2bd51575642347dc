#include <azl/integration/token.hpp>

#include <fmt/format.h>

namespace azl::integration
{

std::string TokenRequest::cache_key() const
{
    return fmt::format(
        "{}={}{}",
        kind == TargetKind::resource ? "resource" : "scope",
        target,
        tenant ? " tenant=" + *tenant : std::string());
}

HostError::HostError(HostErrorKind kind, const std::string& message)
    : std::runtime_error(message)
    , m_kind(kind)
{
}

} // namespace azl::integration
