#pragma once
// OpenSSL's own words for a failure, for every side that calls libcrypto (the image engine's
// digests, first-run setup's certificates and answers digest, the bridge's secrets). Header-only:
// azl::common does not link OpenSSL (the Windows launcher has none), so only code that links
// libcrypto itself includes this.

#include <openssl/err.h>

#include <array>
#include <string>

namespace azl
{

// The oldest reason on this thread's OpenSSL error queue (the cause; later ones are consequences),
// and the queue emptied for the next call. Says so when OpenSSL queued no reason.
inline std::string openssl_error_text()
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0)
    {
        return "OpenSSL gave no reason";
    }
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    return text.data();
}

} // namespace azl
