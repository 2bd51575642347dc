#include "x509_text.hpp"

#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/openssl_error.hpp>
#include <azl/oobe/certs.hpp>

#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace azl::oobe
{

namespace
{

using detail::Bio;
using detail::subject_of;
using detail::time_text;
using detail::X509Ptr;

[[noreturn]] void bad_cert(std::string_view origin, std::string_view problem)
{
    throw UserError(
        fmt::format("{}: {}", origin, problem),
        "give the CA's certificate in PEM form (-----BEGIN CERTIFICATE-----), still valid",
        ExitCode::usage);
}

} // namespace

std::vector<CertificateInfo>
validate_ca_bundle(std::string_view pem, std::string_view origin, std::time_t now)
{
    if (pem.find("-----BEGIN CERTIFICATE-----") == std::string_view::npos)
    {
        bad_cert(origin, "no PEM certificate (-----BEGIN CERTIFICATE-----) found");
    }
    if (pem.find("PRIVATE KEY-----") != std::string_view::npos)
    {
        bad_cert(origin, "contains a private key; give only the CA's certificate");
    }
    Bio in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!in)
    {
        throw SystemError("reading PEM text", openssl_error_text());
    }
    ERR_clear_error();
    std::vector<CertificateInfo> out;
    while (true)
    {
        X509Ptr cert(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
        if (!cert)
        {
            const unsigned long err = ERR_peek_last_error();
            if (!out.empty() && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)
            {
                ERR_clear_error();
                break; // the end of the bundle
            }
            bad_cert(
                origin,
                fmt::format(
                    "certificate {} does not parse as PEM: {}",
                    out.size() + 1,
                    openssl_error_text()));
        }
        CertificateInfo info{subject_of(cert.get()), time_text(X509_get0_notAfter(cert.get()))};
        if (X509_check_ca(cert.get()) != 1)
        {
            bad_cert(
                origin,
                fmt::format(
                    "certificate \"{}\" is not a CA (no basicConstraints CA:TRUE)", info.subject));
        }
        std::time_t at = now;
        if (X509_cmp_time(X509_get0_notAfter(cert.get()), &at) < 0)
        {
            bad_cert(
                origin,
                fmt::format("CA certificate \"{}\" expired on {}", info.subject, info.not_after));
        }
        if (X509_cmp_time(X509_get0_notBefore(cert.get()), &at) > 0)
        {
            bad_cert(
                origin,
                fmt::format(
                    "CA certificate \"{}\" is not valid before {}",
                    info.subject,
                    time_text(X509_get0_notBefore(cert.get()))));
        }
        out.push_back(std::move(info));
    }
    return out;
}

} // namespace azl::oobe
