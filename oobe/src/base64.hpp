#pragma once
// Base64 (RFC 4648, with padding) through OpenSSL's EVP block coder: the answers' content_base64
// and cloud-init's b64 write_files encoding.

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe::detail
{

inline std::string encode_base64(std::string_view bytes)
{
    const std::vector<unsigned char> in(bytes.begin(), bytes.end());
    std::vector<unsigned char> out(4 * ((in.size() + 2) / 3) + 1);
    const int n = EVP_EncodeBlock(out.data(), in.data(), static_cast<int>(in.size()));
    return {out.begin(), out.begin() + std::max(n, 0)};
}

// The bytes of base64 `text` (white space ignored); nullopt when it is not base64.
inline std::optional<std::string> decode_base64(std::string_view text)
{
    std::vector<unsigned char> in;
    for (const char c : text)
    {
        if (std::isspace(static_cast<unsigned char>(c)) == 0)
        {
            in.push_back(static_cast<unsigned char>(c));
        }
    }
    const bool alphabet = std::all_of(
        in.begin(),
        in.end(),
        [](unsigned char c) { return std::isalnum(c) != 0 || c == '+' || c == '/' || c == '='; });
    if (in.size() % 4 != 0 || !alphabet)
    {
        return std::nullopt;
    }
    std::vector<unsigned char> out(in.size() / 4 * 3);
    const int n = EVP_DecodeBlock(out.data(), in.data(), static_cast<int>(in.size()));
    if (n < 0)
    {
        return std::nullopt;
    }
    auto size = static_cast<std::size_t>(n);
    for (auto it = in.rbegin(); it != in.rend() && *it == '=' && size > 0; ++it)
    {
        --size; // EVP_DecodeBlock counts the padding as zero bytes
    }
    return std::string(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(size));
}

} // namespace azl::oobe::detail
