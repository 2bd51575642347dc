#include <azl/oobe/answers.hpp>
#include <azl/oobe/layers.hpp>
#include <azl/oobe/policy.hpp>
#include <azl/oobe/sources.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <test_support.hpp>

using namespace azl::oobe;
using azl::test::thrown_message;
using nlohmann::json;

namespace
{

const EffectiveValue* value_of(const std::vector<EffectiveValue>& values, std::string_view key)
{
    for (const auto& v : values)
    {
        if (v.key == key)
        {
            return &v;
        }
    }
    return nullptr;
}

} // namespace

TEST_CASE("layers: the higher layer wins key by key, lists accumulate", "[oobe]")
{
    std::vector<Layer> layers;
    layers.push_back(load_layer(
        LayerKind::machine_policy,
        "policy.json",
        R"({"version": 1, "timezone": "UTC", "packages": ["git"], "user": {"sudo": "none"}})"));
    layers.push_back(load_layer(
        LayerKind::user,
        "user.json",
        R"({"version": 1, "timezone": "Europe/Paris", "hostname": "box",
            "packages": ["vim", "git"], "user": {"name": "dev", "sudo": "nopasswd",
            "password_hash": "$6$abc$def"}})"));
    layers.push_back(load_layer(
        LayerKind::image, "image.json", R"({"version": 1, "hostname": "img", "locale": "C"})"));
    const auto merged = merge_layers(std::move(layers));
    const auto& doc = merged.document;
    CHECK(doc["timezone"] == "UTC");
    CHECK(doc["hostname"] == "box");
    CHECK(doc["locale"] == "C");
    CHECK(doc["user"]["name"] == "dev");
    CHECK(doc["user"]["sudo"] == "none");
    CHECK(doc["packages"] == json::array({"git", "vim"}));
    CHECK(merged.refusals.empty());
    CHECK(merged.origin_of("/user/name") == "user.json");
    CHECK(merged.origin_of("/user/sudo") == "policy.json");
    CHECK(merged.origin_of("/packages/1") == "user.json");
    CHECK(merged.summary() == "policy.json + user.json + image.json");

    const auto values = effective_values(merged);
    REQUIRE(value_of(values, "/user/password_hash") != nullptr);
    CHECK(value_of(values, "/user/password_hash")->value == "(set)");
    REQUIRE(value_of(values, "/locale") != nullptr);
    CHECK(value_of(values, "/locale")->layer == 2);
}

TEST_CASE("layers: a locked key is refused in every lower layer, naming both", "[oobe]")
{
    std::vector<Layer> layers;
    layers.push_back(load_layer(
        LayerKind::machine_policy,
        "HKLM-policy",
        R"({"version": 1, "locked": ["timezone", "/user/sudo", "/packages"],
            "timezone": "UTC"})"));
    layers.push_back(load_layer(
        LayerKind::user,
        "default.json",
        R"({"version": 1, "timezone": "Europe/Paris", "packages": ["vim"],
            "user": {"name": "dev", "sudo": "nopasswd"}})"));
    const auto merged = merge_layers(std::move(layers));
    CHECK(merged.document["timezone"] == "UTC");
    CHECK_FALSE(merged.document["user"].contains("sudo"));
    CHECK_FALSE(merged.document.contains("packages"));
    REQUIRE(merged.refusals.size() == 3);
    CHECK(merged.refusals[0].origin == "default.json");
    CHECK(merged.refusals[0].policy == "HKLM-policy");
}

TEST_CASE("layers: only machine policy locks, and unknown keys name their file", "[oobe]")
{
    CHECK(thrown_message<AnswersError>(
              [] { (void)load_layer(LayerKind::user, "u.json", R"({"version":1,"locked":[]})"); })
              .starts_with("u.json: /locked: only machine policy"));
    CHECK(
        thrown_message<AnswersError>(
            [] { (void)load_layer(LayerKind::user, "u.json", R"({"version":1,"x":1})"); })
        == "u.json: /x: unknown key (see oobe/schema/answers.schema.json)");
    CHECK(thrown_message<AnswersError>(
              [] { (void)load_layer(LayerKind::image, "i.json", R"({"hostname":"a"})"); })
              .starts_with("i.json: /version: missing"));
}

TEST_CASE("layers: a bad merged value names the layer that set it", "[oobe]")
{
    std::vector<Layer> layers;
    layers.push_back(
        load_layer(LayerKind::machine_policy, "p.json", R"({"version":1,"timezone":"UTC"})"));
    layers.push_back(load_layer(LayerKind::user, "u.json", R"({"version":1,"hostname":"a b"})"));
    const auto merged = merge_layers(std::move(layers));
    CHECK(thrown_message<AnswersError>([&] { (void)parse_answers(merged); })
              .starts_with("u.json: /hostname: "));
}

TEST_CASE("policy: reg.exe query output becomes a machine policy layer", "[oobe]")
{
    const std::string out = "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\AzureLinux\\WSL\r\n"
                            "    LockedKeys    REG_MULTI_SZ    timezone\\0/proxy\r\n"
                            "    Timezone    REG_SZ    Etc/UTC\r\n"
                            "    HttpProxy    REG_SZ    http://proxy.corp:3128\r\n"
                            "    NoProxy    REG_SZ    localhost;.corp\r\n"
                            "    AzureBridge    REG_DWORD    0x0\r\n"
                            "    Packages    REG_MULTI_SZ    git\\0jq\r\n"
                            "    Answers    REG_SZ    {\"version\": 1, \"hostname\": \"corp\"}\r\n"
                            "    Wallpaper    REG_SZ    x\r\n"
                            "\r\n";
    const auto values = parse_reg_query(out);
    REQUIRE(values.size() == 8);
    CHECK(values.at("LockedKeys").items == std::vector<std::string>{"timezone", "/proxy"});
    std::vector<std::string> ignored;
    const auto layer = policy_layer(values, kPolicyKey, ignored);
    REQUIRE(layer);
    CHECK(ignored == std::vector<std::string>{"Wallpaper"});
    CHECK(layer->locked == std::vector<std::string>{"/timezone", "/proxy"});
    CHECK(layer->document["timezone"] == "Etc/UTC");
    CHECK(layer->document["hostname"] == "corp");
    CHECK(layer->document["proxy"]["no_proxy"] == json::array({"localhost", ".corp"}));
    CHECK(layer->document["bridge"]["enabled"] == false);
    CHECK(layer->document["packages"] == json::array({"git", "jq"}));

    CHECK(policy_layer({}, kPolicyKey, ignored) == std::nullopt);
    const auto wrong = parse_reg_query("    Timezone    REG_DWORD    0x1\r\n");
    CHECK(thrown_message<AnswersError>([&] { (void)policy_layer(wrong, kPolicyKey, ignored); })
              .starts_with("HKLM\\SOFTWARE\\Policies\\AzureLinux\\WSL\\Timezone: is REG_DWORD"));
    // Bytes that are not UTF-8 (found by fuzz_answers): the policy named, not an internal error.
    const auto binary = parse_reg_query("    Timezone    REG_SZ    Europe/\xff\xfe\r\n");
    CHECK_THAT(
        thrown_message<AnswersError>([&] { (void)policy_layer(binary, kPolicyKey, ignored); }),
        Catch::StartsWith("HKLM\\SOFTWARE\\Policies\\AzureLinux\\WSL")
            && Catch::Contains("not valid UTF-8"));
}

TEST_CASE("the launcher's document of the Windows side gives every layer, each named", "[layers]")
{
    const azl::test::Sandbox dir;
    const json doc{
        {"version", 1},
        {"registry",
         {{"read", true},
          {"values",
           {{"Timezone", {{"type", "REG_SZ"}, {"items", {"Asia/Tokyo"}}}},
            {"LockedKeys", {{"type", "REG_MULTI_SZ"}, {"items", {"/timezone"}}}}}}}},
        {"program_data",
         {{"origin", R"(C:\ProgramData\AzureLinux\oobe.json)"},
          {"text", R"({"version": 1, "hostname": "corp-dev"})"}}},
        {"user",
         {{"origin", R"(C:\Users\Jane\.azurelinux\default.json)"},
          {"text", R"({"version": 1, "timezone": "Europe/Paris"})"}}},
        {"cloud_init",
         {{"Default.User-Data",
           {{"origin", R"(C:\Users\Jane\.cloud-init\Default.User-Data)"},
            {"text", "#cloud-config\nlocale: de_DE.UTF-8\n"}}}}}};
    const auto file = dir.write("host-layers.json", doc.dump(), 0600);
    const auto layers = find_layers(std::nullopt, dir.path() / "no-image.json", file);
    REQUIRE(layers.size() == 4);
    CHECK(layers[0].kind == LayerKind::machine_policy);
    CHECK(layers[0].origin == R"(HKLM\SOFTWARE\Policies\AzureLinux\WSL)");
    CHECK(layers[1].origin == R"(C:\ProgramData\AzureLinux\oobe.json)");
    CHECK(layers[2].kind == LayerKind::user);
    CHECK(layers[2].origin == R"(C:\Users\Jane\.azurelinux\default.json)");
    CHECK(layers[3].kind == LayerKind::cloud_init);
    CHECK(layers[3].origin == R"(C:\Users\Jane\.cloud-init\Default.User-Data)");
    const MergedAnswers merged = merge_layers(layers);
    CHECK(merged.document["timezone"] == "Asia/Tokyo");
    CHECK(merged.document["hostname"] == "corp-dev");
    CHECK(merged.document["locale"] == "de_DE.UTF-8");
    REQUIRE(merged.refusals.size() == 1);
    CHECK(merged.refusals[0].origin == R"(C:\Users\Jane\.azurelinux\default.json)");

    // An --answers file still wins over the profile's.
    const auto own = dir.write("mine.json", R"({"version": 1, "locale": "fr_FR.UTF-8"})", 0600);
    const auto with_own = find_layers(own, dir.path() / "no-image.json", file);
    CHECK(with_own[2].origin == own.string());

    // Not the launcher's document: an answers error naming the file.
    const auto bad = dir.write("bad.json", R"({"version": 2})", 0600);
    CHECK_THAT(
        thrown_message<AnswersError>(
            [&] { (void)find_layers(std::nullopt, dir.path() / "x.json", bad); }),
        Catch::Contains(bad.string()));
}
