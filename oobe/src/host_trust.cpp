// The host's trusted certificates in the guest: decisions and the managed set.
#include "x509_text.hpp"

#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/openssl_error.hpp>
#include <azl/common/text.hpp>
#include <azl/oobe/host_trust.hpp>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <map>
#include <set>

namespace azl::oobe
{

namespace fs = std::filesystem;

namespace
{

using detail::Bio;
using detail::bio_text;
using detail::memory_bio;
using detail::subject_of;
using detail::time_text;
using detail::X509Ptr;
using detail::X509Stack;
using detail::X509Store;
using detail::X509StoreCtx;

constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kEnd = "-----END CERTIFICATE-----";

std::string sha256_hex(std::string_view bytes)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    {
        throw SystemError("hashing a certificate", openssl_error_text());
    }
    return hex_encode(std::span(md).first(len));
}

std::string der_of(X509* cert)
{
    unsigned char* out = nullptr;
    const int len = i2d_X509(cert, &out);
    if (len <= 0)
    {
        throw SystemError("encoding a certificate", openssl_error_text());
    }
    std::string der(reinterpret_cast<const char*>(out), static_cast<std::size_t>(len));
    OPENSSL_free(out);
    return der;
}

std::string pem_of(X509* cert)
{
    const Bio bio = memory_bio();
    if (PEM_write_bio_X509(bio.get(), cert) != 1)
    {
        throw SystemError("writing a certificate as PEM", openssl_error_text());
    }
    return bio_text(bio.get());
}

X509Ptr from_der(std::string_view der)
{
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (cert && p != reinterpret_cast<const unsigned char*>(der.data() + der.size()))
    {
        cert.reset(); // trailing bytes: not one certificate
    }
    return cert;
}

X509Ptr from_pem_block(std::string_view block)
{
    Bio in(BIO_new_mem_buf(block.data(), static_cast<int>(block.size())));
    if (!in)
    {
        throw SystemError("reading PEM text", openssl_error_text());
    }
    return X509Ptr(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
}

// The PEM blocks of `text`, each from its BEGIN line to the end of its END line.
std::vector<std::string_view> pem_blocks(std::string_view text)
{
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while ((pos = text.find(kBegin, pos)) != std::string_view::npos)
    {
        const auto end = text.find(kEnd, pos);
        if (end == std::string_view::npos)
        {
            out.push_back(text.substr(pos)); // unterminated: parses as garbage
            break;
        }
        out.push_back(text.substr(pos, end + kEnd.size() - pos));
        pos = end + kEnd.size();
    }
    return out;
}

// One host certificate while deciding.
struct Candidate
{
    X509Ptr cert;
    CertDecision decision;
};

bool self_signed(X509* cert)
{
    return X509_check_issued(cert, cert) == X509_V_OK;
}

// Whether `cert` chains, through the host's candidate CAs, to a root the guest or the host trusts.
bool chains_to_trusted_root(
    X509* cert,
    const std::vector<Candidate>& candidates,
    const std::vector<X509Ptr>& guest_roots,
    std::time_t now)
{
    X509Store store(X509_STORE_new());
    X509Stack untrusted(sk_X509_new_null());
    X509StoreCtx ctx(X509_STORE_CTX_new());
    if (!store || !untrusted || !ctx)
    {
        throw SystemError("preparing a certificate check", openssl_error_text());
    }
    for (const auto& root : guest_roots)
    {
        X509_STORE_add_cert(store.get(), root.get());
    }
    for (const auto& c : candidates)
    {
        if (c.decision.verdict != CertVerdict::install || c.cert.get() == cert)
        {
            continue;
        }
        if (self_signed(c.cert.get()))
        {
            X509_STORE_add_cert(store.get(), c.cert.get());
        }
        else
        {
            sk_X509_push(untrusted.get(), c.cert.get());
        }
    }
    if (X509_STORE_CTX_init(ctx.get(), store.get(), cert, untrusted.get()) != 1)
    {
        throw SystemError("preparing a certificate check", openssl_error_text());
    }
    X509_STORE_CTX_set_time(ctx.get(), 0, now);
    const bool ok = X509_verify_cert(ctx.get()) == 1;
    ERR_clear_error();
    return ok;
}

std::vector<X509Ptr>
trusted_guest_roots(std::string_view bundle_pem, const std::set<std::string>& trusted)
{
    std::vector<X509Ptr> out;
    for (const auto block : pem_blocks(bundle_pem))
    {
        X509Ptr cert = from_pem_block(block);
        if (cert && trusted.contains(sha256_hex(der_of(cert.get()))))
        {
            out.push_back(std::move(cert));
        }
    }
    ERR_clear_error();
    return out;
}

// A file name for a certificate: its subject's CN as a slug, then the start of its digest.
std::string file_stem(const CertDecision& d)
{
    std::string cn;
    if (const auto at = d.subject.find("CN="); at != std::string::npos)
    {
        cn = d.subject.substr(at + 3, d.subject.find(',', at) - at - 3);
    }
    std::string slug;
    for (const char c : ascii_lower(cn))
    {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (keep)
        {
            slug.push_back(c);
        }
        else if (!slug.empty() && slug.back() != '-')
        {
            slug.push_back('-');
        }
        if (slug.size() >= 40)
        {
            break;
        }
    }
    while (!slug.empty() && slug.back() == '-')
    {
        slug.pop_back();
    }
    return fmt::format("{}{}{}", slug, slug.empty() ? "" : "-", d.sha256.substr(0, 16));
}

// What the managed set should hold: file name → content (one entry for a bundle).
std::map<std::string, std::string>
desired_files(const TrustLayout& layout, const std::vector<CertDecision>& decisions)
{
    std::vector<const CertDecision*> installs;
    for (const auto& d : decisions)
    {
        if (d.verdict == CertVerdict::install)
        {
            installs.push_back(&d);
        }
    }
    std::sort(
        installs.begin(),
        installs.end(),
        [](const CertDecision* a, const CertDecision* b) { return a->sha256 < b->sha256; });
    std::map<std::string, std::string> files;
    if (installs.empty())
    {
        return files;
    }
    if (layout.bundle_file)
    {
        std::string bundle = "# Written by azurelinux-oobe from the host's trusted certificates; "
                             "replaced at every sync.\n";
        for (const auto* d : installs)
        {
            bundle += fmt::format("# {} ({})\n{}", d->subject, d->store, d->pem);
        }
        files[layout.managed.filename().string()] = std::move(bundle);
        return files;
    }
    for (const auto* d : installs)
    {
        files[file_stem(*d) + ".crt"] = d->pem;
    }
    return files;
}

std::map<std::string, std::string> current_files(const TrustLayout& layout)
{
    std::map<std::string, std::string> files;
    std::error_code ec;
    if (layout.bundle_file)
    {
        if (fs::is_regular_file(layout.managed, ec))
        {
            files[layout.managed.filename().string()] = read_file(layout.managed, 16U << 20U);
        }
        return files;
    }
    if (!fs::is_directory(layout.managed, ec))
    {
        return files;
    }
    for (const auto& entry : fs::directory_iterator(layout.managed))
    {
        files[entry.path().filename().string()] =
            entry.is_regular_file() ? read_file(entry.path(), 1U << 20U) : std::string();
    }
    return files;
}

// Swaps two paths atomically (renameat2 RENAME_EXCHANGE); false when the kernel or file system
// cannot, so the caller falls back to two renames.
bool exchange_paths(const fs::path& a, const fs::path& b)
{
    constexpr unsigned kRenameExchange = 2; // RENAME_EXCHANGE, <linux/fs.h>
    if (::syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), kRenameExchange) == 0)
    {
        return true;
    }
    if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
    {
        return false;
    }
    throw_errno(fmt::format("replacing {}", b.string()));
}

void replace_folder(const fs::path& managed, const std::map<std::string, std::string>& files)
{
    // The new folder is made beside the anchors folder, not in it: the trust tool reads every
    // *.crt below the anchors folder, a half-written one included.
    const fs::path outside = managed.parent_path().parent_path();
    TempDir fresh(".azurelinux-host-new", outside);
    for (const auto& [name, content] : files)
    {
        write_file_atomic(fresh.path() / name, content, 0644);
    }
    if (::chmod(fresh.path().c_str(), 0755) != 0)
    {
        throw_errno(fmt::format("chmod {}", fresh.path().string()));
    }
    std::error_code ec;
    if (!fs::exists(managed, ec))
    {
        fs::create_directories(managed.parent_path());
        fs::rename(fresh.path(), managed);
        fresh.release();
        return;
    }
    if (!exchange_paths(fresh.path(), managed))
    {
        // Two renames: for a moment the set is absent, never half-written.
        const TempDir old(".azurelinux-host-old", outside);
        fs::rename(managed, old.path() / "set");
        fs::rename(fresh.path(), managed);
        fresh.release();
        return;
    }
    // `fresh` now names the old set; its destructor removes it.
}

} // namespace

std::string_view verdict_text(CertVerdict verdict)
{
    switch (verdict)
    {
    case CertVerdict::install:
        return "trusted from the host";
    case CertVerdict::already_trusted:
        return "already trusted by the guest";
    case CertVerdict::duplicate:
        return "duplicate";
    case CertVerdict::expired:
        return "expired";
    case CertVerdict::not_yet_valid:
        return "not valid yet";
    case CertVerdict::not_ca:
        return "not a CA certificate";
    case CertVerdict::unrooted:
        return "an intermediate whose root nobody here trusts";
    case CertVerdict::garbage:
        return "not a certificate";
    }
    return "not a certificate";
}

std::vector<ParsedCertificate> parse_certificates(std::string_view data, std::string_view origin)
{
    std::vector<ParsedCertificate> out;
    if (data.find(kBegin) == std::string_view::npos)
    {
        X509Ptr cert = from_der(data);
        if (!cert)
        {
            ERR_clear_error();
            throw UserError(fmt::format("{}: neither PEM nor DER of a certificate", origin));
        }
        out.push_back({der_of(cert.get()), pem_of(cert.get())});
        return out;
    }
    std::size_t index = 0;
    for (const auto block : pem_blocks(data))
    {
        ++index;
        X509Ptr cert = from_pem_block(block);
        if (!cert)
        {
            throw UserError(fmt::format(
                "{}: certificate {} does not parse: {}", origin, index, openssl_error_text()));
        }
        out.push_back({der_of(cert.get()), pem_of(cert.get())});
    }
    return out;
}

std::vector<std::string> bundle_fingerprints(const fs::path& bundle)
{
    std::error_code ec;
    std::vector<std::string> out;
    if (!fs::exists(bundle, ec))
    {
        return out;
    }
    const std::string text = read_file(bundle, 64U << 20U);
    for (const auto block : pem_blocks(text))
    {
        if (X509Ptr cert = from_pem_block(block))
        {
            out.push_back(sha256_hex(der_of(cert.get())));
        }
    }
    ERR_clear_error();
    return out;
}

std::vector<CertDecision> decide_certificates(
    const std::vector<HostCertificate>& host,
    const std::vector<std::string>& guest_trusted,
    std::string_view guest_bundle_pem,
    std::time_t now)
{
    const std::set<std::string> trusted(guest_trusted.begin(), guest_trusted.end());
    std::set<std::string> seen;
    std::vector<Candidate> candidates;
    std::vector<CertDecision> garbage;
    for (const auto& h : host)
    {
        std::vector<ParsedCertificate> parsed;
        try
        {
            parsed = parse_certificates(h.data, h.store);
        }
        catch (const UserError&)
        {
            CertDecision d;
            d.store = h.store;
            d.verdict = CertVerdict::garbage;
            garbage.push_back(std::move(d));
            continue;
        }
        for (auto& p : parsed)
        {
            Candidate c{from_der(p.der), {}};
            c.decision.store = h.store;
            c.decision.subject = subject_of(c.cert.get());
            c.decision.sha256 = sha256_hex(p.der);
            c.decision.not_after = time_text(X509_get0_notAfter(c.cert.get()));
            std::time_t at = now;
            if (!seen.insert(c.decision.sha256).second)
            {
                c.decision.verdict = CertVerdict::duplicate;
            }
            else if (trusted.contains(c.decision.sha256))
            {
                c.decision.verdict = CertVerdict::already_trusted;
            }
            else if (X509_cmp_time(X509_get0_notAfter(c.cert.get()), &at) < 0)
            {
                c.decision.verdict = CertVerdict::expired;
            }
            else if (X509_cmp_time(X509_get0_notBefore(c.cert.get()), &at) > 0)
            {
                c.decision.verdict = CertVerdict::not_yet_valid;
            }
            else if (X509_check_ca(c.cert.get()) != 1)
            {
                c.decision.verdict = CertVerdict::not_ca;
            }
            else
            {
                c.decision.verdict = CertVerdict::install;
                c.decision.pem = std::move(p.pem);
            }
            candidates.push_back(std::move(c));
        }
    }
    // Intermediates are worth carrying only when they lead to a root someone here trusts: one
    // whose root was removed from Windows must not stay trusted on its own.
    const auto guest_roots = trusted_guest_roots(guest_bundle_pem, trusted);
    for (auto& c : candidates)
    {
        if (c.decision.verdict == CertVerdict::install && !self_signed(c.cert.get())
            && !chains_to_trusted_root(c.cert.get(), candidates, guest_roots, now))
        {
            c.decision.verdict = CertVerdict::unrooted;
            c.decision.pem.clear();
        }
    }
    std::vector<CertDecision> out;
    out.reserve(candidates.size() + garbage.size());
    for (auto& c : candidates)
    {
        out.push_back(std::move(c.decision));
    }
    for (auto& g : garbage)
    {
        out.push_back(std::move(g));
    }
    return out;
}

TrustLayout trust_layout(const FamilyFacts& facts, const fs::path& root)
{
    const auto under = [&root](std::string_view p) { return root / fs::path(p).relative_path(); };
    TrustLayout layout;
    layout.bundle_file = facts.family == Family::rpm;
    layout.managed = under(facts.host_anchors);
    layout.system_bundle = under(facts.ca_bundle);
    layout.update_tool.assign(facts.ca_update.begin(), facts.ca_update.end());
    return layout;
}

std::vector<std::string> managed_fingerprints(const TrustLayout& layout)
{
    std::vector<std::string> out;
    for (const auto& [name, content] : current_files(layout))
    {
        for (const auto block : pem_blocks(content))
        {
            if (X509Ptr cert = from_pem_block(block))
            {
                out.push_back(sha256_hex(der_of(cert.get())));
            }
        }
    }
    ERR_clear_error();
    return out;
}

bool write_managed_set(const TrustLayout& layout, const std::vector<CertDecision>& decisions)
{
    const auto want = desired_files(layout, decisions);
    if (want == current_files(layout))
    {
        return false;
    }
    std::error_code ec;
    if (want.empty())
    {
        fs::remove_all(layout.managed, ec);
        if (ec)
        {
            throw SystemError(fmt::format("removing {}", layout.managed.string()), ec.message());
        }
        return true;
    }
    if (layout.bundle_file)
    {
        fs::create_directories(layout.managed.parent_path());
        write_file_atomic(layout.managed, want.begin()->second, 0644);
        return true;
    }
    replace_folder(layout.managed, want);
    return true;
}

} // namespace azl::oobe
