#include <azl/common/text.hpp>
#include <azl/integration/http.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace azl::integration
{

namespace
{

bool is_token_char(unsigned char c)
{
    // RFC 9110 tchar
    return std::isalnum(c) != 0
           || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c))
                  != std::string_view::npos;
}

std::string_view trim_ows(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    {
        s.remove_suffix(1);
    }
    return s;
}

ParseResult fail(int status, std::string message)
{
    ParseResult r;
    r.status = ParseStatus::error;
    r.error_status = status;
    r.error = std::move(message);
    return r;
}

// Parses "METHOD SP target SP HTTP/1.x".
bool parse_request_line(std::string_view line, HttpRequest& req, ParseResult& err)
{
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    {
        err = fail(400, "malformed request line");
        return false;
    }
    const auto method = line.substr(0, sp1);
    const auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto version = line.substr(sp2 + 1);
    if (method.empty()
        || !std::all_of(
            method.begin(), method.end(), [](unsigned char c) { return is_token_char(c); }))
    {
        err = fail(400, "malformed method");
        return false;
    }
    if (target.empty() || target.front() != '/'
        || !std::all_of(
            target.begin(), target.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; }))
    {
        err = fail(400, "malformed request target");
        return false;
    }
    if (version == "HTTP/1.1")
    {
        req.minor_version = 1;
    }
    else if (version == "HTTP/1.0")
    {
        req.minor_version = 0;
    }
    else
    {
        err = fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
        return false;
    }
    req.method = std::string(method);
    req.target = std::string(target);
    return true;
}

bool parse_header_line(std::string_view line, HttpRequest& req, ParseResult& err)
{
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
    {
        err = fail(400, "malformed header line");
        return false;
    }
    const auto name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), [](unsigned char c) { return is_token_char(c); }))
    {
        err = fail(400, "malformed header name");
        return false;
    }
    const auto value = trim_ows(line.substr(colon + 1));
    if (std::any_of(
            value.begin(),
            value.end(),
            [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }))
    {
        err = fail(400, "control character in a header value");
        return false;
    }
    req.headers.emplace_back(ascii_lower(name), std::string(value));
    return true;
}

// Validates the framing headers and returns the body length.
std::optional<std::size_t>
body_length(const HttpRequest& req, const HttpLimits& limits, ParseResult& err)
{
    if (req.header("transfer-encoding"))
    {
        err = fail(501, "Transfer-Encoding is not supported; send Content-Length");
        return std::nullopt;
    }
    std::optional<std::string_view> length;
    for (const auto& [name, value] : req.headers)
    {
        if (name == "content-length")
        {
            if (length && *length != value)
            {
                err = fail(400, "conflicting Content-Length headers");
                return std::nullopt;
            }
            length = value;
        }
    }
    if (!length)
    {
        return std::size_t{0};
    }
    std::size_t n = 0;
    const auto* end = length->data() + length->size();
    const auto [ptr, ec] = std::from_chars(length->data(), end, n);
    if (ec != std::errc() || ptr != end || length->empty())
    {
        err = fail(400, "malformed Content-Length");
        return std::nullopt;
    }
    if (n > limits.max_body)
    {
        err = fail(413, fmt::format("request body over {} bytes", limits.max_body));
        return std::nullopt;
    }
    return n;
}

} // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const
{
    for (const auto& [n, v] : headers)
    {
        if (n == name)
        {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

bool HttpRequest::keep_alive() const
{
    const auto connection = header("connection");
    const std::string value = connection ? ascii_lower(*connection) : std::string();
    if (minor_version == 0)
    {
        return value == "keep-alive";
    }
    return value != "close";
}

ParseResult parse_request(std::string_view data, const HttpLimits& limits)
{
    // Tolerate the empty lines some clients send between requests (RFC 9112 2.2).
    std::size_t start = 0;
    while (start + 1 < data.size() && data[start] == '\r' && data[start + 1] == '\n')
    {
        start += 2;
    }
    // The empty lines count against the head limit: a stream of them is never complete and must
    // not be buffered without bound.
    const auto head_end = data.find("\r\n\r\n", start);
    if (head_end == std::string_view::npos)
    {
        if (data.size() > limits.max_head)
        {
            return fail(431, fmt::format("request head over {} bytes", limits.max_head));
        }
        return {};
    }
    if (head_end + 4 > limits.max_head)
    {
        return fail(431, fmt::format("request head over {} bytes", limits.max_head));
    }
    ParseResult result;
    HttpRequest& req = result.request;
    std::string_view head = data.substr(start, head_end - start);
    bool first = true;
    while (!head.empty() || first)
    {
        const auto eol = head.find("\r\n");
        const auto line = head.substr(0, eol);
        head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
        if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos)
        {
            return fail(400, "bare CR or LF in the request head");
        }
        if (first ? !parse_request_line(line, req, result) : !parse_header_line(line, req, result))
        {
            return result;
        }
        first = false;
        if (req.headers.size() > limits.max_headers)
        {
            return fail(431, fmt::format("more than {} headers", limits.max_headers));
        }
    }
    if (req.minor_version == 1 && !req.header("host"))
    {
        return fail(400, "HTTP/1.1 request without Host");
    }
    const auto length = body_length(req, limits, result);
    if (!length)
    {
        return result;
    }
    const std::size_t body_start = head_end + 4;
    if (data.size() - body_start < *length)
    {
        return {};
    }
    req.body = std::string(data.substr(body_start, *length));
    result.status = ParseStatus::complete;
    result.consumed = body_start + *length;
    return result;
}

std::optional<std::string> url_decode(std::string_view s, bool plus_is_space)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i)
    {
        const char c = s[i];
        if (c == '%')
        {
            if (i + 2 >= s.size())
            {
                return std::nullopt;
            }
            unsigned value = 0;
            const auto [ptr, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
            if (ec != std::errc() || ptr != s.data() + i + 3 || value == 0)
            {
                return std::nullopt;
            }
            out.push_back(static_cast<char>(value));
            i += 2;
        }
        else if (c == '+' && plus_is_space)
        {
            out.push_back(' ');
        }
        else
        {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<std::map<std::string, std::string>> parse_query(std::string_view query)
{
    std::map<std::string, std::string> out;
    while (!query.empty())
    {
        const auto amp = query.find('&');
        const auto part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (part.empty())
        {
            continue;
        }
        const auto eq = part.find('=');
        auto name = url_decode(part.substr(0, eq), true);
        auto value = url_decode(
            eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), true);
        if (!name || !value || name->empty()
            || !out.emplace(std::move(*name), std::move(*value)).second)
        {
            return std::nullopt;
        }
    }
    return out;
}

std::string_view reason_phrase(int status)
{
    switch (status)
    {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

std::string http_response(int status, std::string_view json_body, bool keep_alive)
{
    return fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n"
        "Cache-Control: no-store\r\n{}\r\n{}",
        status,
        reason_phrase(status),
        json_body.size(),
        keep_alive ? "" : "Connection: close\r\n",
        json_body);
}

} // namespace azl::integration
