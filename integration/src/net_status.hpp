#pragma once
// `status`'s network lines: TLS to the Azure endpoints through the proxy the guest's tools use,
// with doctor's explanations (azl::oobe's net_check: which proxy refused, which CA intercepts).

#include <nlohmann/json.hpp>

#include <string>

namespace azl::integration
{

// The checks as a JSON array of {id, status, message, hint} (doctor's shape), the proxy they went
// through (or null), and a WSL_PAC_URL the guest cannot evaluate.
nlohmann::json network_status();

// The lines of `status` for them.
std::string format_network_status(const nlohmann::json& network);

} // namespace azl::integration
