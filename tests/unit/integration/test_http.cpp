#include <azl/integration/http.hpp>

#include <catch2/catch.hpp>

using namespace azl::integration;

TEST_CASE("a complete GET request is parsed with lower-cased header names", "[http]")
{
    const std::string raw =
        "GET /p/msi/token?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-IDENTITY-HEADER: s\r\n\r\n";
    const auto r = parse_request(raw, {});
    REQUIRE(r.status == ParseStatus::complete);
    CHECK(r.consumed == raw.size());
    CHECK(r.request.method == "GET");
    CHECK(r.request.target == "/p/msi/token?a=1");
    CHECK(r.request.header("x-identity-header") == "s");
    CHECK(r.request.keep_alive());
}

TEST_CASE("a partial request waits for more bytes, a body by Content-Length", "[http]")
{
    const std::string raw = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nresource=a";
    for (std::size_t n = 0; n < raw.size(); ++n)
    {
        CHECK(parse_request(raw.substr(0, n), {}).status == ParseStatus::incomplete);
    }
    const auto r = parse_request(raw + "GET /next", {});
    REQUIRE(r.status == ParseStatus::complete);
    CHECK(r.request.body == "resource=a");
    CHECK(r.consumed == raw.size());
}

TEST_CASE("requests over the limits or malformed are refused with the right status", "[http]")
{
    HttpLimits limits;
    limits.max_head = 100;
    limits.max_body = 10;
    CHECK(parse_request(std::string(200, 'a'), limits).error_status == 431);
    CHECK(
        parse_request(
            "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(120, 'a') + "\r\n\r\n", limits)
            .error_status
        == 431);
    CHECK(
        parse_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits)
            .error_status
        == 413);
    CHECK(
        parse_request("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", limits)
            .error_status
        == 501);
    CHECK(parse_request("GET / HTTP/2.0\r\nHost: h\r\n\r\n", limits).error_status == 505);
    CHECK(parse_request("GET /\r\n\r\n", limits).status == ParseStatus::error);
    CHECK(parse_request("GET / HTTP/1.1\r\n\r\n", limits).status == ParseStatus::error); // no Host
    CHECK(
        parse_request("GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n", limits).status
        == ParseStatus::error);
    CHECK(
        parse_request("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", limits).status
        == ParseStatus::error);
    CHECK(
        parse_request("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", limits).status
        == ParseStatus::error);
}

TEST_CASE("empty lines before a request count against the head limit", "[http]")
{
    HttpLimits limits;
    limits.max_head = 100;
    const std::string request = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    CHECK(parse_request("\r\n\r\n" + request, limits).status == ParseStatus::complete);
    // Never complete, so without the limit a client could grow the buffer without end.
    std::string flood;
    for (int i = 0; i < 51; ++i)
    {
        flood += "\r\n";
    }
    CHECK(parse_request(flood.substr(0, 100), limits).status == ParseStatus::incomplete);
    CHECK(parse_request(flood, limits).error_status == 431);
    CHECK(parse_request(flood + request, limits).error_status == 431);
}

TEST_CASE("HTTP/1.0 closes unless asked to keep alive, 1.1 keeps alive unless closed", "[http]")
{
    CHECK_FALSE(parse_request("GET / HTTP/1.0\r\n\r\n", {}).request.keep_alive());
    CHECK(
        parse_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", {}).request.keep_alive());
    CHECK_FALSE(parse_request("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", {})
                    .request.keep_alive());
}

TEST_CASE(
    "queries decode percent escapes and plus, malformed or repeated names are refused", "[http]")
{
    const auto q =
        parse_query("resource=https%3A%2F%2Fvault.azure.net&api-version=2019-08-01&x=a+b");
    REQUIRE(q);
    CHECK(q->at("resource") == "https://vault.azure.net");
    CHECK(q->at("x") == "a b");
    CHECK_FALSE(parse_query("a=%4"));
    CHECK_FALSE(parse_query("a=%zz"));
    CHECK_FALSE(parse_query("a=%00"));
    CHECK_FALSE(parse_query("a=1&a=2"));
    CHECK(parse_query("")->empty());
}

TEST_CASE("responses carry the status, length and connection header", "[http]")
{
    const auto r = http_response(401, "{}", false);
    CHECK(r.rfind("HTTP/1.1 401 Unauthorized\r\n", 0) == 0);
    CHECK(r.find("Content-Length: 2\r\n") != std::string::npos);
    CHECK(r.find("Connection: close\r\n") != std::string::npos);
    CHECK(r.substr(r.size() - 6) == "\r\n\r\n{}");
}
