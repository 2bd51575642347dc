// What a PAC file's FindProxyForURL answers become for the guest's tools.
#include <azl/launcher/pac.hpp>

#include <catch2/catch.hpp>

using namespace azl::launcher;
using Kind = PacChoice::Kind;

TEST_CASE("a PAC answer: the first directive the guest's tools can use", "[launcher][pac]")
{
    SECTION("DIRECT, and an empty answer, which the PAC convention reads as DIRECT")
    {
        CHECK(interpret_pac_answer("DIRECT").kind == Kind::direct);
        CHECK(interpret_pac_answer("  direct ").kind == Kind::direct);
        CHECK(interpret_pac_answer("").kind == Kind::direct);
    }
    SECTION("PROXY a, then PROXY b: a, as a browser tries it first")
    {
        const auto c = interpret_pac_answer("PROXY a.contoso.com:8080; PROXY b.contoso.com:3128");
        CHECK(c.kind == Kind::proxy);
        CHECK(c.proxy == "http://a.contoso.com:8080");
        CHECK_FALSE(c.skipped_socks);
        CHECK(interpret_pac_answer("PROXY p:80; DIRECT").proxy == "http://p:80");
        CHECK(interpret_pac_answer("proxy  p:80 ;").proxy == "http://p:80");
        CHECK(interpret_pac_answer("HTTP web:80").proxy == "http://web:80");
        CHECK(interpret_pac_answer("HTTPS secure:443").proxy == "https://secure:443");
    }
    SECTION("SOCKS first: passed over for the next choice, which is said")
    {
        const auto c = interpret_pac_answer("SOCKS5 s:1080; PROXY p:8080");
        CHECK(c.kind == Kind::proxy);
        CHECK(c.proxy == "http://p:8080");
        CHECK(c.skipped_socks);
        const auto d = interpret_pac_answer("SOCKS s:1080; DIRECT");
        CHECK(d.kind == Kind::direct);
        CHECK(d.skipped_socks);
    }
    SECTION("SOCKS only: nothing the tools can use")
    {
        const auto c = interpret_pac_answer("SOCKS s:1080; SOCKS4 t:1080");
        CHECK(c.kind == Kind::unusable);
        CHECK(c.why == "SOCKS only (SOCKS s:1080; SOCKS4 t:1080)");
    }
    SECTION("garbage: not understood, and quoted on one line")
    {
        const auto c = interpret_pac_answer("FORWARD x:1\n; PROXY");
        CHECK(c.kind == Kind::unusable);
        CHECK(c.why == "an answer that is not understood: \"FORWARD x:1 ; PROXY\"");
        CHECK(interpret_pac_answer("PROXY a b").kind == Kind::unusable);
        CHECK(interpret_pac_answer("DIRECT now").kind == Kind::unusable);
    }
}

TEST_CASE("the host of a URL a PAC file is asked about", "[launcher][pac]")
{
    CHECK(
        pac_url_host("https://Packages.Microsoft.com/azurelinux/3.0/") == "packages.microsoft.com");
    CHECK(pac_url_host("http://user:pw@mirror:8080/debian") == "mirror");
    CHECK(pac_url_host("https://[2001:db8::1]:443/x") == "2001:db8::1");
    CHECK(pac_url_host("https://login.microsoftonline.com") == "login.microsoftonline.com");
}

TEST_CASE("PAC answers become one proxy per scheme and the DIRECT hosts", "[launcher][pac]")
{
    const std::string pac = "http://wpad.contoso.com/proxy.pac";
    SECTION("the repository through the proxy, the Azure endpoints DIRECT")
    {
        const auto out = interpret_pac_answers(
            pac,
            {"https://packages.microsoft.com/azurelinux/3.0/prod/base/x86_64",
             "https://login.microsoftonline.com/",
             "https://management.azure.com/"},
            {"PROXY proxy.contoso.com:8080; DIRECT", "DIRECT", "DIRECT"});
        CHECK(out.https == "http://proxy.contoso.com:8080");
        CHECK(out.http == "http://proxy.contoso.com:8080");
        CHECK(
            out.direct
            == std::vector<std::string>{"login.microsoftonline.com", "management.azure.com"});
        REQUIRE(out.lines.size() == 1);
        CHECK(
            out.lines[0]
            == "PAC file http://wpad.contoso.com/proxy.pac evaluated for 3 hosts: "
               "packages.microsoft.com through http://proxy.contoso.com:8080; DIRECT: "
               "login.microsoftonline.com, management.azure.com");
    }
    SECTION("everything DIRECT: no proxy at all")
    {
        const auto out =
            interpret_pac_answers(pac, {"https://a/", "http://b/"}, {"DIRECT", "DIRECT"});
        CHECK(out.http.empty());
        CHECK(out.https.empty());
        CHECK(out.direct == std::vector<std::string>{"a", "b"});
        CHECK(
            out.lines[0]
            == "PAC file http://wpad.contoso.com/proxy.pac evaluated for 2 hosts; DIRECT: a, b");
    }
    SECTION("per scheme: http:// and https:// URLs through different proxies")
    {
        const auto out = interpret_pac_answers(
            pac, {"http://mirror/debian", "https://secure/"}, {"PROXY web:80", "PROXY tls:8443"});
        CHECK(out.http == "http://web:80");
        CHECK(out.https == "http://tls:8443");
        CHECK(out.lines.size() == 1);
        CHECK(
            out.lines[0].find("through http://tls:8443 (https) and http://web:80 (http)")
            != std::string::npos);
    }
    SECTION("another proxy for a second host: one proxy per tool, and it is said")
    {
        const auto out = interpret_pac_answers(
            pac, {"https://a/", "https://b/"}, {"PROXY p1:8080", "PROXY p2:8080"});
        CHECK(out.https == "http://p1:8080");
        REQUIRE(out.lines.size() == 2);
        CHECK(
            out.lines[1]
            == "the PAC file sends b through http://p2:8080, but the guest's tools take one proxy: "
               "b goes through http://p1:8080");
    }
    SECTION("SOCKS only for one host: it goes direct, and why is said")
    {
        const auto out = interpret_pac_answers(
            pac,
            {"https://repo/", "https://login.microsoftonline.com/"},
            {"PROXY p:3128", "SOCKS5 s:1080"});
        CHECK(out.https == "http://p:3128");
        CHECK(out.direct == std::vector<std::string>{"login.microsoftonline.com"});
        REQUIRE(out.lines.size() == 2);
        CHECK(
            out.lines[1]
            == "the PAC file answers SOCKS only (SOCKS5 s:1080) for login.microsoftonline.com: "
               "apt, "
               "tdnf, git, curl, pip and npm cannot use that, so login.microsoftonline.com is "
               "reached directly; set a proxy in the answers if it cannot be");
    }
    SECTION("a host both proxied and DIRECT (two URLs) is not in no_proxy")
    {
        const auto out = interpret_pac_answers(
            pac, {"http://mirror/a", "https://mirror/b"}, {"DIRECT", "PROXY p:1"});
        CHECK(out.direct.empty());
        CHECK(out.https == "http://p:1");
    }
}
