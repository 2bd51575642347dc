#include <azl/integration/clients.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>

namespace azl::integration
{

namespace
{

constexpr std::array<std::pair<ClientSet, std::string_view>, 5> kNames = {{
    {ClientSet::all, "all"},
    {ClientSet::az, "az"},
    {ClientSet::azd, "azd"},
    {ClientSet::terraform, "terraform"},
    {ClientSet::sdk, "sdk"},
}};

void add(std::vector<EnvVar>& vars, std::string name, std::optional<std::string> value)
{
    if (std::none_of(vars.begin(), vars.end(), [&](const EnvVar& v) { return v.name == name; }))
    {
        vars.push_back({std::move(name), std::move(value)});
    }
}

// The App Service pair: first in MSAL's source detection (after Service Fabric, which needs
// IDENTITY_SERVER_THUMBPRINT) and in azure-identity's everywhere. AZURE_CLIENT_ID would make
// azure-identity ask for a user-assigned identity, which the host's account is not.
void app_service(std::vector<EnvVar>& vars, const Endpoints& e, const Secrets& secrets)
{
    add(vars, "IDENTITY_ENDPOINT", e.identity_endpoint);
    add(vars, "IDENTITY_HEADER", secrets.header);
    add(vars, "IDENTITY_SERVER_THUMBPRINT", std::nullopt);
    add(vars, "AZURE_CLIENT_ID", std::nullopt);
}

// One tool's variables (not `all`).
void for_one(ClientSet set, std::vector<EnvVar>& vars, const Endpoints& e, const Secrets& secrets)
{
    switch (set)
    {
    case ClientSet::az:
        app_service(vars, e, secrets);
        // az before 2.73 (msrestazure's MSIAuthentication) POSTs to MSI_ENDPOINT; MSI_SECRET
        // beside it would make MSAL pick Azure ML's protocol were the App Service pair missing.
        add(vars, "MSI_ENDPOINT", e.msi_endpoint);
        add(vars, "MSI_SECRET", std::nullopt);
        break;
    case ClientSet::sdk:
        app_service(vars, e, secrets);
        break;
    case ClientSet::azd:
        add(vars, "AZD_AUTH_ENDPOINT", e.azd_endpoint);
        add(vars, "AZD_AUTH_KEY", secrets.header);
        break;
    case ClientSet::terraform:
        add(vars, "ARM_USE_MSI", "true");
        add(vars, "ARM_MSI_ENDPOINT", e.imds_endpoint);
        break;
    case ClientSet::all:
        break;
    }
}

} // namespace

std::string_view client_set_name(ClientSet set)
{
    for (const auto& [s, name] : kNames)
    {
        if (s == set)
        {
            return name;
        }
    }
    return "all";
}

std::string_view client_protocol(ClientSet set)
{
    switch (set)
    {
    case ClientSet::az:
        return "App Service (MSAL, az >= 2.73), Cloud Shell (az < 2.73)";
    case ClientSet::azd:
        return "azd external authentication";
    case ClientSet::terraform:
        return "IMDS (ARM_MSI_ENDPOINT)";
    case ClientSet::sdk:
        return "App Service";
    case ClientSet::all:
        break;
    }
    return "all of the above";
}

std::optional<ClientSet> parse_client_set(std::string_view name)
{
    for (const auto& [s, n] : kNames)
    {
        if (n == name)
        {
            return s;
        }
    }
    return std::nullopt;
}

std::vector<EnvVar> client_env(ClientSet set, const Endpoints& e, const Secrets& secrets)
{
    std::vector<EnvVar> vars;
    if (set != ClientSet::all)
    {
        for_one(set, vars, e, secrets);
        return vars;
    }
    for (const auto s : {ClientSet::az, ClientSet::sdk, ClientSet::azd, ClientSet::terraform})
    {
        for_one(s, vars, e, secrets);
    }
    return vars;
}

std::string env_lines(const std::vector<EnvVar>& vars)
{
    std::string out;
    std::vector<std::string_view> unset;
    for (const auto& v : vars)
    {
        if (v.value)
        {
            // Our values are URLs and hex digits: never a single quote to escape.
            out += fmt::format("export {}='{}'\n", v.name, *v.value);
        }
        else
        {
            unset.emplace_back(v.name);
        }
    }
    if (!unset.empty())
    {
        out += fmt::format("unset {}\n", fmt::join(unset, " "));
    }
    return out;
}

std::vector<std::pair<ClientSet, bool>> clients_served(
    const Endpoints& e,
    const Secrets& secrets,
    const std::function<std::optional<std::string>(const std::string&)>& lookup)
{
    std::vector<std::pair<ClientSet, bool>> out;
    for (const auto set : {ClientSet::az, ClientSet::azd, ClientSet::terraform, ClientSet::sdk})
    {
        const auto vars = client_env(set, e, secrets);
        const bool served = std::all_of(
            vars.begin(), vars.end(), [&](const EnvVar& v) { return lookup(v.name) == v.value; });
        out.emplace_back(set, served);
    }
    return out;
}

} // namespace azl::integration
