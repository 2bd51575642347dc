#pragma once
// The WSL simulator's wire protocol between its Windows half (wsl.exe, wslapi.dll, running under
// Wine) and its Linux half (wslsim-host, which does the guest work in the project's bubblewrap
// sandbox). Wine gives a Windows process no handle or pipe for an ELF child, so the two halves
// talk over TCP on 127.0.0.1, the way WSL's own service relays a Linux process's streams to
// wsl.exe over sockets.
//
// A request is one line of JSON (at most kMaxHeader bytes) holding the shared secret and the
// operation, followed by frames in both directions:
//   [type: 1 byte][length: 4 bytes, little endian][payload]
// Client to host: 'i' standard input (length 0: end of input), 'w' a terminal size ("ROWSxCOLS").
// Host to client: 'o' standard output, 'e' standard error, 'r' a JSON reply (the operation's
// result, e.g. the distribution's default name), 'x' the end: a 4-byte little-endian exit status.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wslsim
{

constexpr std::size_t kMaxHeader = std::size_t{64} * 1024;
constexpr std::size_t kMaxFrame = std::size_t{16} * 1024 * 1024;

enum class Frame : char
{
    input = 'i',
    window = 'w',
    out = 'o',
    err = 'e',
    reply = 'r',
    exit = 'x',
};

// The 5-byte header of a frame.
inline std::array<char, 5> frame_header(Frame type, std::uint32_t length)
{
    return {
        static_cast<char>(type),
        static_cast<char>(length & 0xFFU),
        static_cast<char>((length >> 8U) & 0xFFU),
        static_cast<char>((length >> 16U) & 0xFFU),
        static_cast<char>((length >> 24U) & 0xFFU),
    };
}

inline std::uint32_t frame_length(const std::array<char, 5>& header)
{
    std::uint32_t n = 0;
    for (int i = 4; i >= 1; --i)
    {
        n = (n << 8U) | static_cast<unsigned char>(header.at(static_cast<std::size_t>(i)));
    }
    return n;
}

inline std::string encode_status(std::int32_t status)
{
    const auto u = static_cast<std::uint32_t>(status);
    return {
        static_cast<char>(u & 0xFFU),
        static_cast<char>((u >> 8U) & 0xFFU),
        static_cast<char>((u >> 16U) & 0xFFU),
        static_cast<char>((u >> 24U) & 0xFFU),
    };
}

inline std::int32_t decode_status(std::string_view bytes)
{
    std::uint32_t u = 0;
    for (std::size_t i = bytes.size() < 4 ? bytes.size() : 4; i-- > 0;)
    {
        u = (u << 8U) | static_cast<unsigned char>(bytes[i]);
    }
    return static_cast<std::int32_t>(u);
}

} // namespace wslsim
