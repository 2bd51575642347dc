#include <azl/integration/token_cache.hpp>

#include <catch2/catch.hpp>

using namespace azl::integration;
using namespace std::chrono_literals;

namespace
{

std::chrono::system_clock::time_point at(std::int64_t s)
{
    return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

AccessToken token(std::int64_t expires_on)
{
    AccessToken t;
    t.access_token = "tok";
    t.expires_on = expires_on;
    return t;
}

} // namespace

TEST_CASE("a token is served while more than five minutes of it are left", "[cache]")
{
    TokenCache cache;
    cache.store("k", token(10'000), at(6'000));
    CHECK(std::holds_alternative<const AccessToken*>(cache.find("k", at(9'699))));
    CHECK(std::holds_alternative<std::monostate>(cache.find("k", at(9'700))));
    CHECK(std::holds_alternative<std::monostate>(cache.find("other", at(6'000))));
    REQUIRE(cache.entries(at(9'000)).size() == 1);
    CHECK(cache.entries(at(9'000))[0].expires_in == 1'000);
    CHECK(cache.prune(at(9'800)) == 0);
}

TEST_CASE("a token that is nearly expired is never cached", "[cache]")
{
    TokenCache cache;
    cache.store("k", token(1'200), at(1'000));
    CHECK(std::holds_alternative<std::monostate>(cache.find("k", at(1'000))));
}

TEST_CASE("failures are remembered for the negative TTL only, and drop the old token", "[cache]")
{
    TokenCache cache(5min, 5s);
    cache.store("k", token(10'000), at(1'000));
    cache.store_error("k", HostError(HostErrorKind::not_signed_in, "run az login"), at(1'000));
    const auto hit = cache.find("k", at(1'004));
    REQUIRE(std::holds_alternative<const CachedError*>(hit));
    CHECK(std::get<const CachedError*>(hit)->message == "run az login");
    CHECK(std::holds_alternative<std::monostate>(cache.find("k", at(1'005))));
    // A clock stepped backwards does not stretch the failure.
    CHECK(std::holds_alternative<std::monostate>(cache.find("k", at(900))));
}
