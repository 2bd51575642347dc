// Fuzzes the DistributionInfo.json reader, validator, merger and writer: any input either parses or
// is refused with a UserError; what validates serializes to text that parses and validates again.
#include <azl/common/error.hpp>
#include <azl/packaging/manifest.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try
    {
        auto manifest = azl::packaging::parse_manifest(text, "fuzz.json");
        azl::packaging::validate_manifest(manifest, "fuzz.json");
        const auto out = azl::packaging::serialize_manifest(manifest);
        const auto again = azl::packaging::parse_manifest(out, "fuzz-out.json");
        azl::packaging::validate_manifest(again, "fuzz-out.json");
        if (azl::packaging::serialize_manifest(again) != out)
        {
            std::abort(); // writing is a fixed point after one round trip
        }
    }
    catch (const azl::UserError&)
    {
    }
    return 0;
}
