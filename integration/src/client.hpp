#pragma once
// A minimal blocking HTTP/1.1 client for talking to our own server on 127.0.0.1.

#include <chrono>
#include <optional>
#include <string>

namespace azl::integration
{

// One reply of our own server.
struct LocalReply
{
    int status = 0;
    std::string body;
};

// GETs `target` from 127.0.0.1:`port` with the identity header; nullopt when nothing answers.
std::optional<LocalReply> local_get(
    int port,
    const std::string& target,
    const std::string& identity_header,
    std::chrono::milliseconds timeout);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view s);

} // namespace azl::integration
