#include <azl/common/c_ptr.hpp>
#include <azl/common/fs.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/certs.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>
#include <string>

using namespace azl::oobe;

namespace
{

using PKey = azl::UniqueCPtr<EVP_PKEY, &EVP_PKEY_free>;
using Cert = azl::UniqueCPtr<X509, &X509_free>;
using Bio = azl::UniqueCPtr<BIO, &BIO_free_all>;
using Ext = azl::UniqueCPtr<X509_EXTENSION, &X509_EXTENSION_free>;

// A self-signed Ed25519 certificate valid for ±`days` around now, with basicConstraints `bc`.
std::string make_cert(const char* cn, const char* bc, long days = 365)
{
    PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    REQUIRE(key);
    Cert cert(X509_new());
    REQUIRE(cert);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), key.get());
    Ext ext(X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, bc));
    REQUIRE(ext);
    X509_add_ext(cert.get(), ext.get(), -1);
    REQUIRE(X509_sign(cert.get(), key.get(), nullptr) > 0);
    Bio bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert.get());
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(len)};
}

std::string error_of(const std::string& doc)
{
    try
    {
        (void)parse_answers(doc, "answers.json");
    }
    catch (const AnswersError& e)
    {
        CHECK(e.exit_code() == azl::ExitCode::usage); // exit code 2: bad answers file
        return e.what();
    }
    return {};
}

} // namespace

TEST_CASE("answers: wrong types, unknown keys and bad values are named by JSON path", "[oobe]")
{
    struct Row
    {
        const char* doc;
        const char* message;
    };

    const auto rows = std::to_array<Row>({
        {R"({})", "answers.json: /version: missing"},
        {R"({"version": 2})", "/version: unsupported"},
        {R"({"version": "1"})", "/version: expected an integer, found string"},
        {R"([1])", "answers.json: /: expected an object, found array"},
        {R"({"version": 1,)", "answers.json: not valid JSON"},
        {R"({"version": 1, "colour": "blue"})", "/colour: unknown key"},
        {R"({"version": 1, "user": {"name": 5}})", "/user/name: expected a string, found number"},
        {R"({"version": 1, "user": {"name": "dev", "shel": "/bin/sh"}})",
         "/user/shel: unknown key"},
        {R"({"version": 1, "user": {"uid": 1000}})", "/user/name: missing"},
        {R"({"version": 1, "user": {"name": "Dev"}})", "/user/name: \"Dev\" must start"},
        {R"({"version": 1, "user": {"name": "dev", "uid": 99}})", "/user/uid: 99 is out of range"},
        {R"({"version": 1, "user": {"name": "dev", "sudo": "maybe"}})",
         "/user/sudo: \"maybe\" is not one of"},
        {R"({"version": 1, "user": {"name": "dev", "groups": "docker"}})",
         "/user/groups: expected an array"},
        {R"({"version": 1, "user": {"name": "dev", "groups": ["ok", 7]}})",
         "/user/groups/1: expected a string"},
        {R"({"version": 1, "user": {"name": "dev", "ssh_authorized_keys": ["hello"]}})",
         "/user/ssh_authorized_keys/0"},
        {R"({"version": 1, "user": {"name": "dev", "password": "a", "password_hash": "$6$x"}})",
         "/user/password: give either"},
        {R"({"version": 1, "hostname": "bad_host"})", "/hostname: is not a valid host name"},
        {R"({"version": 1, "hostname": "-x"})", "/hostname"},
        {R"({"version": 1, "locale": "english"})", "/locale"},
        {R"({"version": 1, "timezone": "../etc/passwd"})", "/timezone"},
        {R"({"version": 1, "proxy": {"http": "ftp://proxy"}})", "/proxy/http: must be an http://"},
        {R"({"version": 1, "proxy": {"no_proxy": ["x"]}})", "/proxy: needs http or https"},
        {R"({"version": 1, "proxy": {"http": "http://p:3128", "no_proxy": "localhost"}})",
         "/proxy/no_proxy: expected an array"},
        {R"({"version": 1, "packages": ["git", 3]})", "/packages/1: expected a string"},
        {R"({"version": 1, "packages": ["-oops"]})", "/packages/0: is not a package name"},
        {R"({"version": 1, "systemd": "yes"})", "/systemd: expected true or false, found string"},
        {R"({"version": 1, "bridge": {"enabled": true, "idleTimeout": 5}})",
         "/bridge/idleTimeout: unknown key"},
        {R"({"version": 1, "repositories": [{"name": "x"}]})", "/repositories/0/url: missing"},
        {R"({"version": 1, "repositories": [{"name": "x", "url": "ftp://a"}]})",
         "/repositories/0/url"},
        {R"({"version": 1, "run": "echo hi"})", "/run: expected an array"},
        {R"({"version": 1, "ca_certificates": [{"name": "x", "pem": "garbage"}]})",
         "/ca_certificates/0/pem: no PEM certificate"},
        {R"({"version": 1, "ca_certificates": [{"name": "x"}]})",
         "/ca_certificates/0: needs exactly one of pem"},
        {R"({"version": 1, "ca_certificates": [{"name": "../x", "pem": ""}]})",
         "/ca_certificates/0/name"},
    });
    for (const auto& row : rows)
    {
        INFO(row.doc);
        CHECK_THAT(error_of(row.doc), Catch::Contains(row.message));
    }
}

TEST_CASE("answers: a password hash that is not one is refused without repeating it", "[oobe]")
{
    const auto message = error_of(
        R"({"version": 1, "user": {"name": "dev", "password_hash": "hunter2hunter2hunter2"}})");
    CHECK_THAT(message, Catch::Contains("/user/password_hash: is not a crypt(3) hash"));
    CHECK(message.find("hunter2") == std::string::npos);
}

TEST_CASE("answers: a complete document", "[oobe]")
{
    const azl::TempDir dir("azl-oobe-test");
    const auto ca_file = dir.path() / "corp.pem";
    azl::write_file_atomic(ca_file, make_cert("Corp File Root", "critical,CA:TRUE"));
    nlohmann::json doc = {
        {"version", 1},
        {"user",
         {{"name", "dev"},
          {"uid", 1001},
          {"gecos", "Dev User"},
          {"groups", {"docker"}},
          {"sudo", "nopasswd"},
          {"password_hash",
           "$6$saltsaltsalt$BLEo5ypKqmjfUm0e/VrOqbYrjVp/"
           "6yHIpIPLbvBbPWGSdqijAl7K4ZGY9hjTZbwwDrLC8QKC7d1oBhA7CsVDy."},
          {"ssh_authorized_keys", {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB1 dev@laptop"}}}},
        {"hostname", "devbox"},
        {"locale", "en_US.UTF-8"},
        {"timezone", "Europe/Paris"},
        {"proxy",
         {{"http", "http://proxy.corp:3128"},
          {"https", "http://proxy.corp:3128"},
          {"no_proxy", {"localhost", ".corp"}}}},
        {"ca_certificates",
         {{{"name", "corp-inline"}, {"pem", make_cert("Corp Inline Root", "critical,CA:TRUE")}},
          {{"name", "corp-file"}, {"file", ca_file.string()}}}},
        {"repositories",
         {{{"name", "corp"},
           {"url", "https://pkgs.corp/debian"},
           {"suite", "bookworm"},
           {"components", {"main"}}}}},
        {"packages", {"git", "curl"}},
        {"systemd", true},
        {"bridge",
         {{"enabled", true},
          {"idle_timeout", 900},
          {"tenant", "contoso.onmicrosoft.com"},
          {"ssh_agent", false},
          {"gpg_agent", false}}},
        {"run", {"echo done"}},
    };
    const auto a = parse_answers(doc.dump(), "answers.json");
    REQUIRE(a.user);
    CHECK(a.user->name == "dev");
    CHECK(a.user->uid == 1001);
    CHECK(a.user->sudo == SudoMode::nopasswd);
    CHECK(a.user->groups == std::vector<std::string>{"docker"});
    CHECK(a.hostname == "devbox");
    REQUIRE(a.proxy);
    CHECK(a.proxy->no_proxy.size() == 2);
    REQUIRE(a.ca_certificates.size() == 2);
    CHECK(a.ca_certificates[1].pem.find("BEGIN CERTIFICATE") != std::string::npos);
    CHECK(a.systemd == true);
    CHECK(a.bridge->idle_timeout == 900U);
    CHECK(a.bridge->ssh_agent == false);
    CHECK(a.bridge->gpg_agent == false);
    CHECK_FALSE(a.bridge->gcm); // not given: bridge.conf keeps its default
    CHECK(a.run.size() == 1);
    // Defaults of a minimal document.
    const auto minimal = parse_answers(R"({"version": 1, "user": {"name": "dev"}})", "a.json");
    CHECK(minimal.user->uid == 1000);
    CHECK(minimal.user->shell == "/bin/bash");
    CHECK(minimal.user->sudo == SudoMode::password);
    CHECK_FALSE(minimal.hostname);
}

TEST_CASE("answers: the shipped example is valid", "[oobe]")
{
    const auto text = azl::read_file(AZL_OOBE_SOURCE_DIR "/examples/answers.json");
    const auto a = parse_answers(text, "examples/answers.json");
    CHECK(a.user);
    CHECK(nlohmann::json::parse(azl::read_file(AZL_OOBE_SOURCE_DIR "/schema/answers.schema.json"))
              .contains("properties"));
}

TEST_CASE("answers: the digest ignores key order and a plaintext password", "[oobe]")
{
    CHECK(
        answers_digest(R"({"version": 1, "hostname": "a", "locale": "C"})")
        == answers_digest(R"({"locale":"C","version":1,"hostname":"a"})"));
    CHECK(
        answers_digest(R"({"version": 1, "user": {"name": "d", "password": "x"}})")
        == answers_digest(R"({"version": 1, "user": {"name": "d", "password": "y"}})"));
    CHECK(
        answers_digest(R"({"version": 1, "hostname": "a"})")
        != answers_digest(R"({"version": 1, "hostname": "b"})"));
}

TEST_CASE("CA certificates: parse, CA only, in their validity period, subject named", "[oobe]")
{
    const auto ca = make_cert("Corp Root CA", "critical,CA:TRUE");
    const auto leaf = make_cert("www.corp.example", "critical,CA:FALSE");
    const auto now = std::time(nullptr);
    const auto certs = validate_ca_bundle(ca + ca, "corp.pem", now);
    REQUIRE(certs.size() == 2);
    CHECK(certs[0].subject == "CN=Corp Root CA");
    CHECK_THROWS_WITH(
        validate_ca_bundle(leaf, "leaf.pem", now),
        Catch::Contains("leaf.pem: certificate \"CN=www.corp.example\" is not a CA"));
    CHECK_THROWS_WITH(
        validate_ca_bundle(ca, "corp.pem", now + 400L * 86400),
        Catch::Contains("corp.pem: CA certificate \"CN=Corp Root CA\" expired on"));
    CHECK_THROWS_WITH(
        validate_ca_bundle(ca, "corp.pem", now - 86400), Catch::Contains("is not valid before"));
    auto damaged = ca;
    damaged[damaged.size() / 2] = '!';
    CHECK_THROWS_WITH(
        validate_ca_bundle(damaged, "bad.pem", now), Catch::Contains("does not parse"));
    CHECK_THROWS_WITH(
        validate_ca_bundle("hello", "x.pem", now), Catch::Contains("no PEM certificate"));
}
