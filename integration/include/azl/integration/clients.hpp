#pragma once
// The guest tools the bridge serves, the protocol each speaks and the environment variables that
// point it at the bridge: one table for `env --for`, `status` and the docs' table.

#include <azl/integration/protocols.hpp>
#include <azl/integration/runtime.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace azl::integration
{

// Which tools `env` prints variables for.
enum class ClientSet
{
    all,       // every tool below: none of their variables steers another tool wrong
    az,        // Azure CLI: MSAL (az >= 2.73) reads the App Service pair, az 2.45 MSI_ENDPOINT
    azd,       // Azure Developer CLI: external authentication
    terraform, // azurerm/azuread (hashicorp/go-azure-sdk): the IMDS shape, ARM_USE_MSI
    sdk,       // azure-identity in Python, JS, Go, .NET, Java: the App Service pair
};

// The name `--for` takes, and back; nullopt for an unknown name.
std::string_view client_set_name(ClientSet set);
std::optional<ClientSet> parse_client_set(std::string_view name);

// The protocol(s) the bridge answers `set` with, for `status` and the docs.
std::string_view client_protocol(ClientSet set);

// One variable line: set to a value, or unset (a variable that would steer the tool elsewhere).
struct EnvVar
{
    std::string name;
    std::optional<std::string> value; // nullopt: unset
};

// The variables `set` needs for a server at `e` with `secrets`, each once, in a fixed order.
std::vector<EnvVar> client_env(ClientSet set, const Endpoints& e, const Secrets& secrets);

// `client_env` as POSIX shell lines (values single-quoted).
std::string env_lines(const std::vector<EnvVar>& vars);

// Each tool (not `all`) and whether `lookup` (the environment) points it at this server:
// every variable it needs is set as client_env says, and every one it must not see is unset.
std::vector<std::pair<ClientSet, bool>> clients_served(
    const Endpoints& e,
    const Secrets& secrets,
    const std::function<std::optional<std::string>(const std::string&)>& lookup);

} // namespace azl::integration
