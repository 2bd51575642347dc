// Fuzzes the bridge's request handling as the server runs it: the HTTP/1.x parser over a byte
// stream that may hold partial or pipelined requests, then routing (path prefix, method, secret
// header, api-version, query and form body) for every complete request. Any input either routes, is
// refused with a JSON error, or waits for more bytes; nothing may crash, loop or exceed the limits.
#include <azl/integration/http.hpp>
#include <azl/integration/protocols.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

namespace
{

// Fixed secrets, so fuzzing can reach the routes (the seeds carry them).
const azl::integration::Secrets kSecrets{
    .prefix = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    .header = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    const azl::integration::HttpLimits limits;
    while (!rest.empty())
    {
        const auto parsed = azl::integration::parse_request(rest, limits);
        if (parsed.status == azl::integration::ParseStatus::incomplete)
        {
            break;
        }
        if (parsed.status == azl::integration::ParseStatus::error)
        {
            if (parsed.error_status < 400 || parsed.error_status > 599)
            {
                std::abort(); // a refusal must be an HTTP error status
            }
            (void)azl::integration::http_response(parsed.error_status, parsed.error, false);
            break;
        }
        if (parsed.consumed == 0 || parsed.consumed > rest.size()
            || parsed.request.body.size() > limits.max_body)
        {
            std::abort(); // the parser must make progress and stay within its limits
        }
        const auto routed = azl::integration::route_request(parsed.request, kSecrets, std::nullopt);
        if (const auto* refusal = std::get_if<azl::integration::Refusal>(&routed))
        {
            (void)azl::integration::http_response(
                refusal->status, refusal->body, parsed.request.keep_alive());
        }
        rest.remove_prefix(parsed.consumed);
    }
    (void)azl::integration::parse_query(
        std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
