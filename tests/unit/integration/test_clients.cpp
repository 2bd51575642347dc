#include <azl/integration/clients.hpp>

#include <catch2/catch.hpp>

#include <map>

using namespace azl::integration;

namespace
{

const Secrets kSecrets{std::string(64, 'a'), std::string(64, 'b')};

std::map<std::string, std::optional<std::string>> as_map(const std::vector<EnvVar>& vars)
{
    std::map<std::string, std::optional<std::string>> m;
    for (const auto& v : vars)
    {
        CHECK_FALSE(m.contains(v.name)); // each variable once
        m[v.name] = v.value;
    }
    return m;
}

} // namespace

TEST_CASE("each tool gets the variables its client reads, and all gets every one", "[clients]")
{
    const auto e = endpoints(40123, kSecrets);
    const auto az = as_map(client_env(ClientSet::az, e, kSecrets));
    CHECK(az.at("IDENTITY_ENDPOINT") == e.identity_endpoint);
    CHECK(az.at("IDENTITY_HEADER") == kSecrets.header);
    CHECK(az.at("MSI_ENDPOINT") == e.msi_endpoint);
    // Service Fabric wins over App Service in MSAL; a client id means a user-assigned identity.
    CHECK(az.at("IDENTITY_SERVER_THUMBPRINT") == std::nullopt);
    CHECK(az.at("AZURE_CLIENT_ID") == std::nullopt);
    CHECK_FALSE(az.contains("AZD_AUTH_ENDPOINT"));

    const auto azd = as_map(client_env(ClientSet::azd, e, kSecrets));
    CHECK(azd.size() == 2);
    CHECK(azd.at("AZD_AUTH_ENDPOINT") == "http://127.0.0.1:40123/" + kSecrets.prefix + "/azd");
    CHECK(azd.at("AZD_AUTH_KEY") == kSecrets.header);

    const auto tf = as_map(client_env(ClientSet::terraform, e, kSecrets));
    CHECK(tf.size() == 2);
    CHECK(tf.at("ARM_USE_MSI") == "true");
    CHECK(tf.at("ARM_MSI_ENDPOINT") == e.imds_endpoint);

    const auto all = as_map(client_env(ClientSet::all, e, kSecrets));
    for (const auto set : {ClientSet::az, ClientSet::azd, ClientSet::terraform, ClientSet::sdk})
    {
        for (const auto& [name, value] : as_map(client_env(set, e, kSecrets)))
        {
            CHECK(all.at(name) == value); // no two tools want one variable differently
        }
    }
}

TEST_CASE("env lines are shell exports, then one unset", "[clients]")
{
    const std::string lines = env_lines(
        {{"AZD_AUTH_KEY", std::string("k")},
         {"AZURE_CLIENT_ID", std::nullopt},
         {"X", std::nullopt}});
    CHECK(lines == "export AZD_AUTH_KEY='k'\nunset AZURE_CLIENT_ID X\n");
}

TEST_CASE("the names --for takes parse both ways, and unknown ones do not", "[clients]")
{
    for (const auto set :
         {ClientSet::all, ClientSet::az, ClientSet::azd, ClientSet::terraform, ClientSet::sdk})
    {
        CHECK(parse_client_set(client_set_name(set)) == set);
    }
    CHECK_FALSE(parse_client_set("kubectl"));
    CHECK_FALSE(parse_client_set(""));
}

TEST_CASE("a tool counts as served only when its variables point at this server", "[clients]")
{
    const auto e = endpoints(40123, kSecrets);
    std::map<std::string, std::string> env;
    for (const auto& v : client_env(ClientSet::azd, e, kSecrets))
    {
        env[v.name] = *v.value;
    }
    env["AZURE_CLIENT_ID"] = "11111111-2222-3333-4444-555555555555";
    const auto lookup = [&](const std::string& name) -> std::optional<std::string>
    {
        const auto it = env.find(name);
        return it != env.end() ? std::optional(it->second) : std::nullopt;
    };
    std::map<ClientSet, bool> served;
    for (const auto& [set, ok] : clients_served(e, kSecrets, lookup))
    {
        served[set] = ok;
    }
    CHECK(served.at(ClientSet::azd));
    CHECK_FALSE(served.at(ClientSet::terraform));
    CHECK_FALSE(served.at(ClientSet::az));

    // The variables of an older server (another port) do not count.
    env["AZD_AUTH_ENDPOINT"] = endpoints(40124, kSecrets).azd_endpoint;
    const auto stale = clients_served(e, kSecrets, lookup);
    CHECK_FALSE(stale.at(1).second);
}
