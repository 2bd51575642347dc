#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/oobe/family.hpp>
#include <azl/oobe/host_trust.hpp>

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <string>

using namespace azl::oobe;
namespace fs = std::filesystem;

namespace
{

using Key = azl::UniqueCPtr<EVP_PKEY, &EVP_PKEY_free>;
using Cert = azl::UniqueCPtr<X509, &X509_free>;
using Bio = azl::UniqueCPtr<BIO, &BIO_free_all>;

constexpr long kDay = 86400;

// A certificate made here with OpenSSL: CA or not, valid from `from` to `to` days around now,
// signed by `issuer` (itself when null).
struct Made
{
    Key key;
    Cert cert;
};

Made make_cert(const char* cn, bool ca, long from_days, long to_days, const Made* issuer = nullptr)
{
    Made m{Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")), Cert(X509_new())};
    REQUIRE(m.key);
    X509* x = m.cert.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(
        X509_get_serialNumber(x), static_cast<long>(std::hash<std::string>{}(cn)&0xffffff));
    X509_gmtime_adj(X509_getm_notBefore(x), from_days * kDay);
    X509_gmtime_adj(X509_getm_notAfter(x), to_days * kDay);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer->cert.get()) : name);
    X509_set_pubkey(x, m.key.get());
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->cert.get() : x, x, nullptr, nullptr, 0);
    X509_EXTENSION* bc = X509V3_EXT_conf_nid(
        nullptr, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, bc, -1);
    X509_EXTENSION_free(bc);
    if (ca)
    {
        X509_EXTENSION* ku =
            X509V3_EXT_conf_nid(nullptr, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, ku, -1);
        X509_EXTENSION_free(ku);
    }
    REQUIRE(X509_sign(x, issuer ? issuer->key.get() : m.key.get(), EVP_sha256()) > 0);
    return m;
}

std::string pem(const Made& m)
{
    Bio bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), m.cert.get());
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(len)};
}

std::string der(const Made& m)
{
    unsigned char* out = nullptr;
    const int len = i2d_X509(m.cert.get(), &out);
    std::string s(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
    OPENSSL_free(out);
    return s;
}

CertVerdict verdict_of(const std::vector<CertDecision>& ds, std::string_view cn)
{
    for (const auto& d : ds)
    {
        if (d.subject.find(cn) != std::string::npos)
        {
            return d.verdict;
        }
    }
    FAIL("no decision for " << cn);
    return CertVerdict::garbage;
}

} // namespace

TEST_CASE("host certificates: PEM and DER parse to the same certificate", "[oobe][trust]")
{
    const auto root = make_cert("Contoso Root CA", true, -1, 3650);
    const auto from_pem = parse_certificates(pem(root), "root.pem");
    const auto from_der = parse_certificates(der(root), "root.cer");
    REQUIRE(from_pem.size() == 1);
    REQUIRE(from_der.size() == 1);
    CHECK(from_pem[0].der == from_der[0].der);
    CHECK(from_der[0].pem.starts_with("-----BEGIN CERTIFICATE-----\n"));

    const auto two = make_cert("Other CA", true, -1, 3650);
    CHECK(
        parse_certificates("junk before\n" + pem(root) + "between\n" + pem(two), "b").size() == 2);

    CHECK_THROWS_WITH(
        parse_certificates("hello", "x.cer"), "x.cer: neither PEM nor DER of a certificate");
    CHECK_THROWS_WITH(
        parse_certificates(der(root) + "trailing", "x.cer"),
        "x.cer: neither PEM nor DER of a certificate");
    CHECK_THROWS_AS(
        parse_certificates(
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "g.pem"),
        azl::UserError);
}

TEST_CASE(
    "host certificates: CAs are carried, but expired, not yet valid, non-CA, garbage, duplicates "
    "and "
    "what the guest trusts are not",
    "[oobe][trust]")
{
    const auto root = make_cert("Contoso Root CA", true, -1, 3650);
    const auto inter = make_cert("Contoso Issuing CA", true, -1, 3650, &root);
    const auto old = make_cert("Old CA", true, -400, -1);
    const auto future = make_cert("Future CA", true, 10, 400);
    const auto leaf = make_cert("www.contoso.com", false, -1, 300, &root);
    const auto public_root = make_cert("Public Root", true, -1, 3650);
    const auto public_fp = [&]
    {
        const auto parsed = parse_certificates(pem(public_root), "p");
        return decide_certificates({{"s", pem(public_root)}}, {}, "", std::time(nullptr))
            .front()
            .sha256;
    }();

    const std::vector<HostCertificate> host{
        {"LocalMachine\\Root", pem(root)},
        {"LocalMachine\\CA", pem(inter)},
        {"LocalMachine\\Root", pem(old)},
        {"LocalMachine\\Root", pem(future)},
        {"CurrentUser\\CA", der(leaf)},
        {"CurrentUser\\Root", pem(root)},
        {"LocalMachine\\Root", pem(public_root)},
        {"LocalMachine\\Root", "garbage"},
    };
    const auto ds = decide_certificates(host, {public_fp}, pem(public_root), std::time(nullptr));
    CHECK(verdict_of(ds, "Contoso Root CA") == CertVerdict::install);
    CHECK(verdict_of(ds, "Contoso Issuing CA") == CertVerdict::install);
    CHECK(verdict_of(ds, "Old CA") == CertVerdict::expired);
    CHECK(verdict_of(ds, "Future CA") == CertVerdict::not_yet_valid);
    CHECK(verdict_of(ds, "www.contoso.com") == CertVerdict::not_ca);
    CHECK(verdict_of(ds, "Public Root") == CertVerdict::already_trusted);
    CHECK(
        std::count_if(
            ds.begin(), ds.end(), [](const auto& d) { return d.verdict == CertVerdict::duplicate; })
        == 1);
    CHECK(
        std::count_if(
            ds.begin(), ds.end(), [](const auto& d) { return d.verdict == CertVerdict::garbage; })
        == 1);
    CHECK(verdict_text(CertVerdict::expired) == "expired");

    SECTION("an intermediate whose root is gone is not carried alone")
    {
        const auto without_root =
            decide_certificates({{"LocalMachine\\CA", pem(inter)}}, {}, "", std::time(nullptr));
        CHECK(without_root.front().verdict == CertVerdict::unrooted);
        CHECK(without_root.front().pem.empty());
    }
    SECTION("an intermediate whose root the guest trusts is carried")
    {
        const auto parsed = parse_certificates(pem(root), "r");
        const auto root_fp =
            decide_certificates({{"s", pem(root)}}, {}, "", std::time(nullptr)).front().sha256;
        const auto ds2 = decide_certificates(
            {{"LocalMachine\\CA", pem(inter)}}, {root_fp}, pem(root), std::time(nullptr));
        CHECK(ds2.front().verdict == CertVerdict::install);
    }
}

TEST_CASE(
    "the managed set: a folder of its own on Debian, one bundle on Azure Linux, replaced, emptied, "
    "the user's anchors untouched",
    "[oobe][trust]")
{
    const azl::TempDir tmp("azl-trust");
    const auto root = make_cert("Contoso Root CA", true, -1, 3650);
    const auto other = make_cert("Fabrikam Root", true, -1, 3650);
    const auto now = std::time(nullptr);

    SECTION("Debian")
    {
        const auto layout = trust_layout(facts_for(Family::debian), tmp.path());
        CHECK(layout.managed == tmp.path() / "usr/local/share/ca-certificates/azurelinux-host");
        CHECK(layout.system_bundle == tmp.path() / "etc/ssl/certs/ca-certificates.crt");
        fs::create_directories(layout.managed.parent_path());
        azl::write_file_atomic(layout.managed.parent_path() / "mine.crt", pem(other));

        const auto ds = decide_certificates({{"Root", pem(root)}}, {}, "", now);
        CHECK(write_managed_set(layout, ds));
        CHECK_FALSE(write_managed_set(layout, ds)); // unchanged: the trust tool need not run
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(layout.managed))
        {
            names.push_back(e.path().filename().string());
        }
        REQUIRE(names.size() == 1);
        CHECK(names[0].starts_with("contoso-root-ca-"));
        CHECK(names[0].ends_with(".crt"));
        CHECK(managed_fingerprints(layout) == std::vector<std::string>{ds.front().sha256});

        const auto ds2 =
            decide_certificates({{"Root", pem(other)}, {"Root", pem(root)}}, {}, "", now);
        CHECK(write_managed_set(layout, ds2));
        CHECK(managed_fingerprints(layout).size() == 2);
        // Nothing of ours is left beside the anchors folder.
        for (const auto& e : fs::directory_iterator(layout.managed.parent_path().parent_path()))
        {
            CHECK_FALSE(e.path().filename().string().starts_with(".azurelinux-host"));
        }

        CHECK(write_managed_set(layout, {}));
        CHECK_FALSE(fs::exists(layout.managed));
        CHECK(fs::exists(layout.managed.parent_path() / "mine.crt"));
    }
    SECTION("Azure Linux")
    {
        const auto layout = trust_layout(facts_for(Family::rpm), tmp.path());
        CHECK(layout.bundle_file);
        CHECK(layout.managed == tmp.path() / "etc/pki/ca-trust/source/anchors/azurelinux-host.pem");
        const auto ds = decide_certificates({{"Root", pem(root)}, {"CA", pem(other)}}, {}, "", now);
        CHECK(write_managed_set(layout, ds));
        const auto text = azl::read_file(layout.managed);
        CHECK(
            text.find("# CN=Contoso Root CA (Root)\n-----BEGIN CERTIFICATE-----")
            != std::string::npos);
        CHECK(managed_fingerprints(layout).size() == 2);
        CHECK(bundle_fingerprints(layout.managed).size() == 2);
        CHECK(write_managed_set(layout, {}));
        CHECK_FALSE(fs::exists(layout.managed));
    }
}
