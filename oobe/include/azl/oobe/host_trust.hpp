#pragma once
// The host's extra trusted certificates as a managed set in the guest: which of the certificates
// the launcher read from Windows' stores are worth trusting here, and the one place they are
// written (a folder of our own on Debian, one bundle file on Azure Linux, whose p11-kit does not
// read sub-folders). The user's own anchors beside it are never touched.

#include <azl/oobe/family.hpp>

#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// One certificate as the host handed it over: PEM text (one or more blocks) or DER bytes.
struct HostCertificate
{
    std::string store; // where Windows keeps it, e.g. "LocalMachine\Root"; for reports only
    std::string data;  // PEM or DER
};

// What becomes of one host certificate.
enum class CertVerdict
{
    install,         // a CA the guest does not trust yet: carried
    already_trusted, // the guest trusts it without us (its own bundle, the user's anchors)
    duplicate,       // the same certificate from another store
    expired,         // past its notAfter
    not_yet_valid,   // before its notBefore
    not_ca,          // no basicConstraints CA:TRUE
    unrooted,        // an intermediate whose root neither the host set nor the guest trusts
    garbage,         // neither PEM nor DER of a certificate
};

// The words reports use for a verdict ("already trusted", "expired", …).
std::string_view verdict_text(CertVerdict verdict);

// The decision on one certificate.
struct CertDecision
{
    std::string store;
    std::string subject;   // RFC 2253, one line; empty for garbage
    std::string sha256;    // of the DER, lowercase hex; empty for garbage
    std::string not_after; // "Jan  1 00:00:00 2034 GMT"
    CertVerdict verdict = CertVerdict::garbage;
    std::string pem; // the certificate alone, PEM, when verdict == install
};

// One parsed certificate: its DER and the PEM made from it.
struct ParsedCertificate
{
    std::string der;
    std::string pem;
};

// Every certificate in `data`: each PEM block when it has any, else `data` as one DER certificate.
// Throws UserError naming `origin` when a block (or the DER) does not parse.
std::vector<ParsedCertificate> parse_certificates(std::string_view data, std::string_view origin);

// The SHA-256 of each certificate in a PEM bundle file (a trust store's bundle); an absent file is
// empty. Blocks that do not parse are skipped: a trust tool's output is not ours to judge.
std::vector<std::string> bundle_fingerprints(const std::filesystem::path& bundle);

// Decides about each host certificate at time `now`. `guest_trusted` holds the SHA-256 of what the
// guest trusts without the managed set; `guest_bundle_pem` is the same as PEM text, to chain
// intermediates to a root the guest trusts. Garbage yields a decision too, never an exception.
std::vector<CertDecision> decide_certificates(
    const std::vector<HostCertificate>& host,
    const std::vector<std::string>& guest_trusted,
    std::string_view guest_bundle_pem,
    std::time_t now);

// Where the managed set lives for a family, below `root` ("/" in the guest; a test's folder).
struct TrustLayout
{
    std::filesystem::path managed;        // folder (Debian) or bundle file (rpm) of our own
    bool bundle_file = false;             // managed is one PEM bundle, not a folder of .crt files
    std::filesystem::path system_bundle;  // the family's extracted bundle (what TLS clients read)
    std::vector<std::string> update_tool; // the family's trust store rebuild
};

// The layout of `facts`'s family below `root`.
TrustLayout trust_layout(const FamilyFacts& facts, const std::filesystem::path& root = "/");

// The SHA-256 of each certificate in the managed set now.
std::vector<std::string> managed_fingerprints(const TrustLayout& layout);

// Makes the managed set hold exactly the `install` decisions, atomically (a new folder swapped in,
// or a bundle renamed over the old one); removes it when there are none. Returns whether anything
// changed; the caller then runs the update tool.
bool write_managed_set(const TrustLayout& layout, const std::vector<CertDecision>& decisions);

} // namespace azl::oobe
