#pragma once
// The OpenSSL glue the certificate code of first-run setup shares (certs.cpp, host_trust.cpp,
// net_check.cpp): owning pointers and certificate fields as text.

#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/openssl_error.hpp>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <string>

namespace azl::oobe::detail
{

using Bio = UniqueCPtr<BIO, &BIO_free_all>;
using X509Ptr = UniqueCPtr<X509, &X509_free>;
using X509Store = UniqueCPtr<X509_STORE, &X509_STORE_free>;
using X509StoreCtx = UniqueCPtr<X509_STORE_CTX, &X509_STORE_CTX_free>;

// Frees a stack of certificates, not the certificates: they are owned elsewhere.
inline void free_x509_stack(STACK_OF(X509) * stack)
{
    sk_X509_free(stack);
}

using X509Stack = UniqueCPtr<STACK_OF(X509), &free_x509_stack>;

// An empty memory BIO; throws SystemError when OpenSSL cannot allocate one.
inline Bio memory_bio()
{
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio)
    {
        throw SystemError("allocating an OpenSSL buffer", openssl_error_text());
    }
    return bio;
}

// What a memory BIO holds.
inline std::string bio_text(BIO* bio)
{
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

// A distinguished name on one line, RFC 2253 ("CN=Contoso Root CA,O=Contoso").
inline std::string name_text(X509_NAME* name)
{
    const Bio bio = memory_bio();
    if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0)
    {
        return "(unprintable name)";
    }
    return bio_text(bio.get());
}

// A certificate's subject, RFC 2253.
inline std::string subject_of(X509* cert)
{
    return name_text(X509_get_subject_name(cert));
}

// An ASN.1 time as OpenSSL prints it ("Jan  1 00:00:00 2034 GMT").
inline std::string time_text(const ASN1_TIME* t)
{
    const Bio bio = memory_bio();
    if (ASN1_TIME_print(bio.get(), t) != 1)
    {
        return "(unprintable time)";
    }
    return bio_text(bio.get());
}

} // namespace azl::oobe::detail
