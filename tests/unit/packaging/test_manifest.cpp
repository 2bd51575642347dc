#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/common/process.hpp>
#include <azl/packaging/manifest.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

using azl::UserError;
using azl::packaging::Download;
using azl::packaging::Manifest;
using azl::packaging::ManifestEntry;
using azl::packaging::merge_entry;
using azl::packaging::MergeAction;
using azl::packaging::parse_manifest;
using azl::packaging::serialize_manifest;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using nlohmann::json;

namespace
{

const std::string kHashA(64, 'a');
const std::string kHashB = "0x" + std::string(64, 'B');
const std::string kHashC(64, 'c');

// A valid document with two flavors and a legacy key, as enterprise manifests often have.
json sample()
{
    return json::parse(
        R"({
  "Distributions": [{"Name": "Legacy", "StoreAppId": "9XYZ", "Amd64": true}],
  "ModernDistributions": {
    "AzureLinux": [
      {"Name": "AzureLinux-3.0", "FriendlyName": "Azure Linux 3.0", "Default": true,
       "Amd64Url": {"Url": "https://example.com/al-3.0-amd64.wsl", "Sha256": ")"
        + kHashA + R"("}},
      {"Name": "AzureLinux-3.1", "FriendlyName": "Azure Linux 3.1", "Default": false,
       "Arm64Url": {"Url": "file:///C:/images/AL-3.1.WSL", "Sha256": ")"
        + kHashB + R"("}}
    ],
    "Contoso": [
      {"Name": "Contoso-1", "FriendlyName": "Contoso 1", "Default": true,
       "Amd64Url": {"Url": "https://contoso.example/c1.wsl", "Sha256": ")"
        + kHashC + R"("}}
    ]
  }
})");
}

std::string error_of(const json& doc)
{
    try
    {
        parse_manifest(doc.dump(), "DistributionInfo.json");
    }
    catch (const UserError& e)
    {
        return e.what();
    }
    FAIL("the manifest was accepted: " << doc.dump());
    return {};
}

ManifestEntry entry(std::string name, bool is_default, std::string url = "https://e.com/x.wsl")
{
    ManifestEntry e;
    e.name = std::move(name);
    e.friendly_name = "Friendly " + e.name;
    e.is_default = is_default;
    e.amd64 = Download{std::move(url), kHashA};
    return e;
}

const ManifestEntry& find(const Manifest& m, const std::string& flavor, const std::string& name)
{
    for (const auto& e : m.flavors.at(flavor))
    {
        if (e.name == name)
        {
            return e;
        }
    }
    FAIL("no entry " << name);
    throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("a manifest round-trips through parse and serialize", "[manifest]")
{
    const Manifest m = parse_manifest(sample().dump(), "in.json");
    REQUIRE(m.flavors.size() == 2);
    REQUIRE(m.flavors.at("AzureLinux").size() == 2);
    const ManifestEntry& first = m.flavors.at("AzureLinux")[0];
    CHECK(first.name == "AzureLinux-3.0");
    CHECK(first.friendly_name == "Azure Linux 3.0");
    CHECK(first.is_default);
    REQUIRE(first.amd64);
    CHECK(first.amd64->url == "https://example.com/al-3.0-amd64.wsl");
    CHECK_FALSE(first.arm64);

    const std::string text = serialize_manifest(m);
    CHECK(text.back() == '\n');
    CHECK_THAT(text, Contains("\n  \"ModernDistributions\": {\n    \"AzureLinux\": [\n"));
    CHECK(json::parse(text) == sample());
    CHECK(serialize_manifest(parse_manifest(text, "out.json")) == text);
}

TEST_CASE("entry keys come out in schema order", "[manifest]")
{
    const std::string text = serialize_manifest(parse_manifest(sample().dump(), "in.json"));
    const auto name = text.find(R"("Name": "AzureLinux-3.0")");
    const auto friendly = text.find(R"("FriendlyName": "Azure Linux 3.0")");
    const auto def = text.find("\"Default\": true");
    const auto amd = text.find("\"Amd64Url\"");
    REQUIRE(name != std::string::npos);
    CHECK(name < friendly);
    CHECK(friendly < def);
    CHECK(def < amd);
}

TEST_CASE("the 0x prefix and upper-case hex are accepted in Sha256", "[manifest]")
{
    const Manifest m = parse_manifest(sample().dump(), "in.json");
    CHECK(find(m, "AzureLinux", "AzureLinux-3.1").arm64->sha256 == kHashB);
}

TEST_CASE("each broken rule is reported with the file and JSON path", "[manifest]")
{
    json doc = sample();
    auto& al = doc["ModernDistributions"]["AzureLinux"];
    SECTION("unknown entry key")
    {
        al[1]["Foo"] = 1;
        CHECK_THAT(
            error_of(doc),
            Equals(
                "DistributionInfo.json: ModernDistributions.AzureLinux[1]: unknown key \"Foo\""));
    }
    SECTION("unknown key in a download")
    {
        al[0]["Amd64Url"]["Size"] = 1;
        CHECK_THAT(
            error_of(doc),
            Equals("DistributionInfo.json: ModernDistributions.AzureLinux[0].Amd64Url: "
                   "unknown key \"Size\""));
    }
    SECTION("name not starting with the flavor (case-sensitive)")
    {
        al[1]["Name"] = "azurelinux-3.1";
        CHECK_THAT(
            error_of(doc),
            Contains("DistributionInfo.json: ModernDistributions.AzureLinux[1].Name: "
                     "\"azurelinux-3.1\" does not start with its flavor \"AzureLinux\""));
    }
    SECTION("no default")
    {
        al[0]["Default"] = false;
        CHECK_THAT(
            error_of(doc),
            Contains("DistributionInfo.json: ModernDistributions.AzureLinux: no entry has"));
    }
    SECTION("two defaults")
    {
        al[1]["Default"] = true;
        CHECK_THAT(
            error_of(doc),
            Contains("DistributionInfo.json: ModernDistributions.AzureLinux: 2 entries have "
                     "\"Default\": true (AzureLinux-3.0, AzureLinux-3.1)"));
    }
    SECTION("Sha256 of the wrong length")
    {
        al[0]["Amd64Url"]["Sha256"] = std::string(63, 'a');
        CHECK_THAT(
            error_of(doc),
            Contains("DistributionInfo.json: ModernDistributions.AzureLinux[0].Amd64Url.Sha256: "));
    }
    SECTION("Sha256 with a non-hex digit")
    {
        al[1]["Arm64Url"]["Sha256"] = "0x" + std::string(63, 'a') + "g";
        CHECK_THAT(
            error_of(doc),
            Contains("DistributionInfo.json: ModernDistributions.AzureLinux[1].Arm64Url.Sha256: "));
    }
    SECTION("URL not ending in .wsl")
    {
        al[0]["Amd64Url"]["Url"] = "https://example.com/al.tar.gz";
        CHECK_THAT(
            error_of(doc),
            Contains("DistributionInfo.json: ModernDistributions.AzureLinux[0].Amd64Url.Url: "
                     "\"https://example.com/al.tar.gz\" does not end in \".wsl\""));
    }
    SECTION("no download at all")
    {
        al[0].erase("Amd64Url");
        CHECK_THAT(
            error_of(doc),
            Equals("DistributionInfo.json: ModernDistributions.AzureLinux[0]: "
                   "has neither Amd64Url nor Arm64Url"));
    }
    SECTION("duplicate name across flavors")
    {
        // "ContosoX-1" starts with both flavor keys, so only uniqueness can catch it.
        doc["ModernDistributions"]["Contoso"][0]["Name"] = "ContosoX-1";
        doc["ModernDistributions"]["ContosoX"] = doc["ModernDistributions"]["Contoso"];
        CHECK_THAT(
            error_of(doc),
            Contains("ModernDistributions.ContosoX[0].Name: \"ContosoX-1\" is also the Name of "
                     "ModernDistributions.Contoso[0]"));
    }
    SECTION("duplicate name within a flavor, differing in case only")
    {
        al[0]["Name"] = "AzureLinux-3.0-RC";
        al[1]["Name"] = "AzureLinux-3.0-rc";
        CHECK_THAT(
            error_of(doc),
            Contains("ModernDistributions.AzureLinux[1].Name: \"AzureLinux-3.0-rc\" is also the "
                     "Name of ModernDistributions.AzureLinux[0]"));
    }
    SECTION("wrong types")
    {
        al[0]["Default"] = "yes";
        CHECK_THAT(
            error_of(doc),
            Contains("ModernDistributions.AzureLinux[0].Default: must be true or false"));
    }
    SECTION("missing Name")
    {
        al[0].erase("Name");
        CHECK_THAT(
            error_of(doc),
            Equals("DistributionInfo.json: ModernDistributions.AzureLinux[0]: missing key "
                   "\"Name\""));
    }
    SECTION("flavor is not a list")
    {
        doc["ModernDistributions"]["Contoso"] = json::object();
        CHECK_THAT(
            error_of(doc), Contains("ModernDistributions.Contoso: must be a list of entries"));
    }
}

TEST_CASE("text that is not JSON is refused naming the file", "[manifest]")
{
    CHECK_THROWS_WITH(
        parse_manifest("{\"ModernDistributions\": ", "DistributionInfo.json"),
        Contains("DistributionInfo.json: not valid JSON: "));
    CHECK_THROWS_WITH(
        parse_manifest("[1]", "DistributionInfo.json"),
        Equals("DistributionInfo.json: the top level is not a JSON object"));
}

TEST_CASE("merge keeps other flavors, entries and top-level keys", "[manifest]")
{
    Manifest m = parse_manifest(sample().dump(), "in.json");
    const auto contoso = m.flavors.at("Contoso");
    const auto al30 = find(m, "AzureLinux", "AzureLinux-3.0");

    CHECK(
        merge_entry(m, "AzureLinux", entry("AzureLinux-4.0", false), "out.json")
        == MergeAction::added);

    const json out = json::parse(serialize_manifest(m));
    CHECK(out["Distributions"] == sample()["Distributions"]);
    CHECK(m.flavors.at("Contoso") == contoso);
    REQUIRE(m.flavors.at("AzureLinux").size() == 3);
    CHECK(m.flavors.at("AzureLinux")[0] == al30);
    CHECK(m.flavors.at("AzureLinux")[2].name == "AzureLinux-4.0");
    // The flavor had a default already and --default was not asked for.
    CHECK_FALSE(m.flavors.at("AzureLinux")[2].is_default);
}

TEST_CASE("merging the same entry twice gives identical bytes", "[manifest]")
{
    Manifest m = parse_manifest(sample().dump(), "in.json");
    merge_entry(m, "AzureLinux", entry("AzureLinux-4.0", false), "out.json");
    const std::string once = serialize_manifest(m);

    Manifest again = parse_manifest(once, "out.json");
    CHECK(
        merge_entry(again, "AzureLinux", entry("AzureLinux-4.0", false), "out.json")
        == MergeAction::replaced);
    CHECK(serialize_manifest(again) == once);

    // The default entry itself may be merged again with --default, and without it stays default.
    Manifest fresh;
    merge_entry(fresh, "AzureLinux", entry("AzureLinux-4.0", true), "out.json");
    const std::string first = serialize_manifest(fresh);
    merge_entry(fresh, "AzureLinux", entry("AzureLinux-4.0", true), "out.json");
    CHECK(serialize_manifest(fresh) == first);
    merge_entry(fresh, "AzureLinux", entry("AzureLinux-4.0", false), "out.json");
    CHECK(serialize_manifest(fresh) == first);
}

TEST_CASE("a second default in a flavor is refused", "[manifest]")
{
    Manifest m = parse_manifest(sample().dump(), "in.json");
    const std::string before = serialize_manifest(m);
    CHECK_THROWS_WITH(
        merge_entry(m, "AzureLinux", entry("AzureLinux-4.0", true), "DistributionInfo.json"),
        Contains("DistributionInfo.json: flavor AzureLinux already has a default entry, "
                 "AzureLinux-3.0"));
    // Replacing a non-default entry with a default one is a second default too.
    auto other = find(m, "AzureLinux", "AzureLinux-3.1");
    other.is_default = true;
    CHECK_THROWS_AS(merge_entry(m, "AzureLinux", other, "out.json"), UserError);
    CHECK(serialize_manifest(m) == before);

    // Other flavors are their own: a default there is fine.
    CHECK(merge_entry(m, "Fabrikam", entry("Fabrikam-1", true), "out.json") == MergeAction::added);
    CHECK(find(m, "Fabrikam", "Fabrikam-1").is_default);
    CHECK(find(m, "AzureLinux", "AzureLinux-3.0").is_default);
}

TEST_CASE("the first entry of a new flavor becomes its default", "[manifest]")
{
    Manifest m;
    merge_entry(m, "AzureLinux", entry("AzureLinux-4.0", false), "out.json");
    CHECK(find(m, "AzureLinux", "AzureLinux-4.0").is_default);
    CHECK(parse_manifest(serialize_manifest(m), "out.json").flavors == m.flavors);
}

TEST_CASE("a refused merge leaves the manifest unchanged", "[manifest]")
{
    Manifest m = parse_manifest(sample().dump(), "in.json");
    const std::string before = serialize_manifest(m);
    CHECK_THROWS_WITH(
        merge_entry(m, "AzureLinux", entry("Contoso-2", false), "DistributionInfo.json"),
        Contains("DistributionInfo.json: ModernDistributions.AzureLinux[2].Name: \"Contoso-2\" "
                 "does not start with its flavor"));
    CHECK_THROWS_WITH(
        merge_entry(m, "AzureLinux", entry("AzureLinux-5", false, "https://e.com/x.tar"), "o.json"),
        Contains("o.json: ModernDistributions.AzureLinux[2].Amd64Url.Url: "));
    CHECK(serialize_manifest(m) == before);
}

TEST_CASE("URL=FILE splits at the first '='", "[manifest]")
{
    const auto uf =
        azl::packaging::parse_url_and_file("file:///C:/img/AzureLinux.wsl=out/a=b.wsl", "--amd64");
    CHECK(uf.url == "file:///C:/img/AzureLinux.wsl");
    CHECK(uf.file == "out/a=b.wsl");
    CHECK_THROWS_WITH(
        azl::packaging::parse_url_and_file("https://e.com/x.wsl", "--amd64"),
        Contains("--amd64 https://e.com/x.wsl: expected URL=FILE"));
    CHECK_THROWS_AS(azl::packaging::parse_url_and_file("=file", "--arm64"), UserError);
    CHECK_THROWS_AS(azl::packaging::parse_url_and_file("url.wsl=", "--arm64"), UserError);
}
