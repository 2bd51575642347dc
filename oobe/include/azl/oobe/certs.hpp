#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// One certificate of a PEM bundle, as validated.
struct CertificateInfo
{
    std::string subject;   // one line, RFC 2253
    std::string not_after; // "2034-01-01 00:00:00 UTC"
};

// Checks that `pem` holds at least one certificate and that each parses, is a CA (basic
// constraints CA:TRUE) and is valid at `now`. Throws UserError (exit code 2) naming `origin` and
// the certificate's subject. Returns the certificates in order.
std::vector<CertificateInfo>
validate_ca_bundle(std::string_view pem, std::string_view origin, std::time_t now);

} // namespace azl::oobe
