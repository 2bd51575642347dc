#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace azl::integration
{

// Limits every request must stay within; anything larger is refused before it is buffered.
struct HttpLimits
{
    std::size_t max_head = 8192; // request line + headers
    std::size_t max_body = 4096; // form bodies (Cloud Shell) are a few hundred bytes
    std::size_t max_headers = 48;
};

// A parsed HTTP/1.x request. Header names are lower-cased.
struct HttpRequest
{
    std::string method;
    std::string target; // as sent: path and query
    int minor_version = 1;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    // The value of the first header `name` (lower-case), if present.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
    // Whether the client wants the connection kept open after the reply.
    [[nodiscard]] bool keep_alive() const;
};

// The outcome of feeding bytes to the parser.
enum class ParseStatus
{
    incomplete, // need more bytes
    complete,   // a request is ready; `consumed` bytes of the input belong to it
    error,      // malformed or over a limit: reply with `error_status` and close
};

// Result of parse_request.
struct ParseResult
{
    ParseStatus status = ParseStatus::incomplete;
    std::size_t consumed = 0;
    int error_status = 400; // 400, 413, 431, 501, 505
    std::string error;      // for the JSON error body
    HttpRequest request;
};

// Parses one request from the front of `data` (which may hold a partial one or several).
ParseResult parse_request(std::string_view data, const HttpLimits& limits);

// Splits `a=1&b=2` into decoded pairs; nullopt when an escape is malformed or a name repeats.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query);

// Decodes %XX and (when `plus_is_space`) '+'; nullopt on a malformed escape or a NUL.
std::optional<std::string> url_decode(std::string_view s, bool plus_is_space);

// A complete HTTP/1.1 response with a JSON body.
std::string http_response(int status, std::string_view json_body, bool keep_alive);

// The reason phrase of a status code.
std::string_view reason_phrase(int status);

} // namespace azl::integration
