#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/oobe/family.hpp>
#include <azl/oobe/host_proxy.hpp>
#include <azl/oobe/host_sync.hpp>
#include <azl/oobe/net_check.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>

using namespace azl::oobe;
namespace fs = std::filesystem;

namespace
{

std::map<std::string, std::string> texts(const std::vector<ConfigEdit>& edits, const fs::path& root)
{
    std::map<std::string, std::string> out;
    for (const auto& e : edits)
    {
        out["/" + fs::relative(e.path, root).string()] = e.remove ? "(removed)" : e.content;
    }
    return out;
}

const ProxySettings kProxy{
    .http = "http://proxy.contoso.com:8080",
    .https = "http://proxy.contoso.com:8443",
    .no_proxy = {".contoso.com", "localhost", "build01"}};

} // namespace

TEST_CASE("no_proxy always keeps the guest's loopback direct", "[oobe][proxy]")
{
    CHECK(
        merge_no_proxy({".corp", "localhost", ".corp"})
        == std::vector<std::string>{".corp", "localhost", "127.0.0.1", "::1"});
    CHECK(merge_no_proxy({}) == std::vector<std::string>{"localhost", "127.0.0.1", "::1"});
}

TEST_CASE("proxy files of the Debian family: every tool, upper and lower case", "[oobe][proxy]")
{
    const azl::TempDir tmp("azl-proxy");
    fs::create_directories(tmp.path() / "etc");
    azl::write_file_atomic(tmp.path() / "etc/environment", "PATH=\"/usr/bin\"\nhttp_proxy=old\n");
    azl::write_file_atomic(tmp.path() / "etc/gitconfig", "[user]\n\tname = x\n");
    const auto& deb = facts_for(Family::debian);
    const auto edits = proxy_config_edits(deb, kProxy, tmp.path());
    const auto t = texts(edits, tmp.path());
    CHECK(
        t.at("/etc/profile.d/azurelinux-proxy.sh")
        == "# Written by azurelinux-oobe: the proxy for login shells.\n"
           "export http_proxy='http://proxy.contoso.com:8080' "
           "HTTP_PROXY='http://proxy.contoso.com:8080'\n"
           "export https_proxy='http://proxy.contoso.com:8443' "
           "HTTPS_PROXY='http://proxy.contoso.com:8443'\n"
           "export no_proxy='.contoso.com,localhost,build01,127.0.0.1,::1' "
           "NO_PROXY='.contoso.com,localhost,build01,127.0.0.1,::1'\n");
    CHECK(
        t.at("/etc/environment")
        == "PATH=\"/usr/bin\"\n"
           "http_proxy=\"http://proxy.contoso.com:8080\"\nHTTP_PROXY=\"http://"
           "proxy.contoso.com:8080\"\n"
           "https_proxy=\"http://proxy.contoso.com:8443\"\nHTTPS_PROXY=\"http://"
           "proxy.contoso.com:8443\"\n"
           "no_proxy=\".contoso.com,localhost,build01,127.0.0.1,::1\"\n"
           "NO_PROXY=\".contoso.com,localhost,build01,127.0.0.1,::1\"\n");
    const auto& apt = t.at("/etc/apt/apt.conf.d/80azurelinux-proxy");
    CHECK(
        apt.find("Acquire::http::Proxy \"http://proxy.contoso.com:8080\";\n") != std::string::npos);
    CHECK(
        apt.find("Acquire::https::Proxy \"http://proxy.contoso.com:8443\";\n")
        != std::string::npos);
    CHECK(apt.find("Acquire::https::Proxy::build01 \"DIRECT\";\n") != std::string::npos);
    CHECK(apt.find("Proxy::.contoso.com") == std::string::npos); // apt matches hosts, not domains
    CHECK(
        t.at("/etc/gitconfig")
        == "[user]\n\tname = x\n[http]\n\tproxy = http://proxy.contoso.com:8443\n");
    CHECK(t.at("/etc/pip.conf") == "[global]\nproxy = http://proxy.contoso.com:8443\n");
    CHECK(
        t.at("/etc/npmrc")
        == "proxy=http://proxy.contoso.com:8080\nhttps-proxy=http://proxy.contoso.com:8443\n"
           "noproxy=.contoso.com,localhost,build01,127.0.0.1,::1\n");
    CHECK_FALSE(t.contains("/etc/tdnf/tdnf.conf"));

    apply_config_edits(edits);
    CHECK(proxy_config_edits(deb, kProxy, tmp.path()).empty()); // idempotent

    SECTION("the proxy gone: ours removed, everything else kept")
    {
        const auto gone = texts(proxy_config_edits(deb, std::nullopt, tmp.path()), tmp.path());
        CHECK(gone.at("/etc/profile.d/azurelinux-proxy.sh") == "(removed)");
        CHECK(gone.at("/etc/apt/apt.conf.d/80azurelinux-proxy") == "(removed)");
        CHECK(gone.at("/etc/environment") == "PATH=\"/usr/bin\"\n");
        CHECK(gone.at("/etc/gitconfig") == "[user]\n\tname = x\n[http]\n");
        CHECK(gone.at("/etc/npmrc") == "(removed)");
    }
}

TEST_CASE("proxy files of the Azure Linux family: tdnf, and dnf when it is there", "[oobe][proxy]")
{
    const azl::TempDir tmp("azl-proxy");
    fs::create_directories(tmp.path() / "etc/tdnf");
    fs::create_directories(tmp.path() / "etc/dnf");
    azl::write_file_atomic(tmp.path() / "etc/tdnf/tdnf.conf", "[main]\ngpgcheck=1\n");
    azl::write_file_atomic(tmp.path() / "etc/dnf/dnf.conf", "[main]\n");
    const auto t =
        texts(proxy_config_edits(facts_for(Family::rpm), kProxy, tmp.path()), tmp.path());
    CHECK(
        t.at("/etc/tdnf/tdnf.conf")
        == "[main]\ngpgcheck=1\nproxy = http://proxy.contoso.com:8443\n");
    CHECK(t.at("/etc/dnf/dnf.conf") == "[main]\nproxy = http://proxy.contoso.com:8443\n");
    CHECK_FALSE(t.contains("/etc/apt/apt.conf.d/80azurelinux-proxy"));
}

TEST_CASE("sync switches and WSL's autoProxy variables", "[oobe][proxy]")
{
    const azl::TempDir tmp("azl-proxy");
    CHECK(read_sync_switches(tmp.path() / "none.conf").certificates);
    azl::write_file_atomic(tmp.path() / "s.conf", "[sync]\ncertificates = false\n");
    const auto s = read_sync_switches(tmp.path() / "s.conf");
    CHECK_FALSE(s.certificates);
    CHECK(s.proxy);
    azl::write_file_atomic(tmp.path() / "bad.conf", "[sync]\nproxy = maybe\n");
    CHECK_THROWS_AS(read_sync_switches(tmp.path() / "bad.conf"), azl::UserError);

    CHECK_FALSE(wsl_env_proxy({{"PATH", "/bin"}}));
    const auto p =
        wsl_env_proxy({{"HTTPS_PROXY", "http://10.0.0.1:3128"}, {"NO_PROXY", "a.corp, .b.corp;c"}});
    REQUIRE(p);
    CHECK(p->https == "http://10.0.0.1:3128");
    CHECK(p->no_proxy == std::vector<std::string>{"a.corp", ".b.corp", "c"});
}

TEST_CASE("the launcher's request: certificates, proxy, and what is malformed", "[oobe][proxy]")
{
    const auto r = parse_host_sync_request(
        R"({"version":1,"certificates":[{"store":"LocalMachine\\Root","pem":"x"}],
            "proxy":{"source":"Windows Internet Settings","http":"http://p:1","https":"",
                     "no_proxy":["a"]}})",
        "stdin");
    CHECK(r.certificates_known);
    CHECK(r.certificates.size() == 1);
    REQUIRE(r.proxy);
    CHECK(r.proxy->http == "http://p:1");
    CHECK(r.proxy_source == "Windows Internet Settings");
    CHECK_FALSE(
        parse_host_sync_request(R"({"version":1,"certificates":null})", "s").certificates_known);
    CHECK_THROWS_AS(parse_host_sync_request(R"({"version":2})", "s"), azl::UserError);
    CHECK_THROWS_AS(parse_host_sync_request("not json", "s"), azl::UserError);
}

TEST_CASE("doctor's network check: proxy addresses, no_proxy, repository hosts", "[oobe][proxy]")
{
    const auto a = parse_proxy_address("http://user:pw@proxy.contoso.com:8080/");
    REQUIRE(a);
    CHECK(a->host == "proxy.contoso.com");
    CHECK(a->port == 8080);
    CHECK(parse_proxy_address("http://[::1]:3128")->host == "::1");
    CHECK(parse_proxy_address("proxy:3128")->port == 3128);
    CHECK(parse_proxy_address("https://p")->port == 443);
    CHECK_FALSE(parse_proxy_address("socks5://p:1080"));
    CHECK_FALSE(parse_proxy_address("http://p:http"));

    CHECK(bypasses_proxy("Build01.Contoso.com", {".contoso.com"}));
    CHECK(bypasses_proxy("contoso.com", {".contoso.com"}));
    CHECK(bypasses_proxy("a.contoso.com", {"contoso.com"}));
    CHECK(bypasses_proxy("a.contoso.com", {"*.contoso.com"}));
    CHECK_FALSE(bypasses_proxy("notcontoso.com", {"contoso.com"}));
    CHECK(bypasses_proxy("anything", {"*"}));

    const azl::TempDir tmp("azl-net");
    fs::create_directories(tmp.path() / "etc/apt/sources.list.d");
    azl::write_file_atomic(
        tmp.path() / "etc/apt/sources.list",
        "deb http://deb.debian.org/debian bookworm main\n"
        "deb [trusted=yes arch=amd64] https://repo.contoso.com:8443/debian ./\n");
    azl::write_file_atomic(
        tmp.path() / "etc/apt/sources.list.d/x.sources",
        "Types: deb\nURIs: https://packages.microsoft.com/debian/12/prod\nSuites: bookworm\n");
    const auto deb = repository_targets(facts_for(Family::debian), tmp.path());
    REQUIRE(deb.size() == 2);
    CHECK(deb[0].host == "repo.contoso.com");
    CHECK(deb[0].port == 8443);
    CHECK(deb[1].host == "packages.microsoft.com");

    fs::create_directories(tmp.path() / "etc/yum.repos.d");
    azl::write_file_atomic(
        tmp.path() / "etc/yum.repos.d/azl.repo",
        "[base]\nbaseurl=https://packages.microsoft.com/azurelinux/3.0/prod/base/$basearch\n"
        "[local]\nbaseurl=file:///srv/repo\n");
    const auto rpm = repository_targets(facts_for(Family::rpm), tmp.path());
    REQUIRE(rpm.size() == 1);
    CHECK(rpm[0].host == "packages.microsoft.com");

    azl::write_file_atomic(
        tmp.path() / "etc/environment",
        "PATH=/bin\nhttps_proxy=\"http://p.contoso.com:8080\"\nno_proxy=\"localhost,.corp\"\n");
    const auto eff = effective_proxy(tmp.path(), {{"HTTPS_PROXY", "http://ignored:1"}});
    REQUIRE(eff);
    CHECK(eff->https == "http://p.contoso.com:8080");
    CHECK(eff->no_proxy == std::vector<std::string>{"localhost", ".corp"});
}

TEST_CASE("a PAC file evaluated by the launcher: the guest's side", "[oobe][proxy]")
{
    const azl::TempDir tmp("azl-pac-guest");
    fs::create_directories(tmp.path() / "etc/apt/sources.list.d");
    azl::write_file_atomic(
        tmp.path() / "etc/apt/sources.list",
        "deb http://deb.debian.org/debian bookworm main\n"
        "deb [trusted=yes] https://repo.contoso.com:8443/debian ./\n"
        "deb cdrom:[Debian]/ bookworm main\n"
        "deb http://deb.debian.org/debian bookworm-updates main\n");
    CHECK(
        repository_urls(facts_for(Family::debian), tmp.path())
        == std::vector<std::string>{
            "http://deb.debian.org/debian", "https://repo.contoso.com:8443/debian"});

    const auto r = parse_host_sync_request(
        R"({"version":1,"certificates":null,
            "proxy":{"source":"the PAC file http://wpad/proxy.pac, Windows Internet Settings",
                     "http":"","https":"","no_proxy":[],
                     "pac":{"url":"http://wpad/proxy.pac",
                            "problem":"PAC file http://wpad/proxy.pac unreachable: wpad:80 did not answer in time",
                            "summary":"","direct":[]}}})",
        "stdin");
    CHECK(r.pac_evaluated);
    CHECK(r.pac_url == "http://wpad/proxy.pac");
    CHECK_FALSE(r.proxy);

    SECTION("the PAC file could not be evaluated: the files the last good one wrote stay")
    {
        const auto profile = tmp.path() / "etc/profile.d/azurelinux-proxy.sh";
        fs::create_directories(profile.parent_path());
        azl::write_file_atomic(profile, "export https_proxy='http://p:1'\n", 0644);
        const SyncEnvironment env{
            .facts = facts_for(Family::debian),
            .root = tmp.path(),
            .guest_env = {},
            .now = 0,
            .run_tool = {}};
        const auto report = nlohmann::json::parse(run_host_sync(r, env));
        CHECK(report["proxy"]["kept"] == true);
        CHECK(report["proxy"]["problem"] == r.pac_problem);
        CHECK(report["proxy"]["changed"].empty());
        CHECK(azl::read_file(profile, 1024) == "export https_proxy='http://p:1'\n");
    }
    SECTION("WSL exports a PAC file the launcher did not send: the report names it")
    {
        const SyncEnvironment env{
            .facts = facts_for(Family::debian),
            .root = tmp.path(),
            .guest_env = {{"WSL_PAC_URL", "http://wpad.contoso.com/wpad.dat"}},
            .now = 0,
            .run_tool = {}};
        const auto plain =
            parse_host_sync_request(R"({"version":1,"certificates":null,"proxy":null})", "s");
        CHECK(
            nlohmann::json::parse(run_host_sync(plain, env))["proxy"]["wsl_pac_url"]
            == "http://wpad.contoso.com/wpad.dat");
        CHECK_FALSE(nlohmann::json::parse(run_host_sync(r, env))["proxy"].contains("wsl_pac_url"));
    }
    SECTION("doctor's line for it: the problem, or the summary")
    {
        const auto bad = evaluated_pac_check(r.pac_url, r.pac_problem, "");
        CHECK(bad.id == "pac");
        CHECK(bad.status == "fail");
        CHECK(
            bad.message
            == "PAC file http://wpad/proxy.pac unreachable: wpad:80 did not answer in time");
        const auto good = evaluated_pac_check(
            r.pac_url, "", "PAC file http://wpad/proxy.pac evaluated for 3 hosts; DIRECT: a");
        CHECK(good.status == "ok");
        CHECK(good.message == "PAC file http://wpad/proxy.pac evaluated for 3 hosts; DIRECT: a");
    }
}
