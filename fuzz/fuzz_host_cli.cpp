// Fuzzes the parsers of the host Azure CLI's output (`az account get-access-token`, both the
// `expires_on` and the older local-time `expiresOn` shapes, and `az account show`) and the mapping
// of its failures: any output is either understood or refused with a HostError, never a crash.
#include <azl/common/process.hpp>
#include <azl/integration/host_cli.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try
    {
        (void)azl::integration::parse_token_output(text);
    }
    catch (const azl::integration::HostError&)
    {
    }
    try
    {
        (void)azl::integration::parse_account_show(text);
    }
    catch (const azl::integration::HostError&)
    {
    }
    azl::ProcessResult failed;
    failed.exit_code = 1;
    failed.err = std::string(text);
    const azl::integration::TokenRequest request{.target = "https://management.azure.com/"};
    (void)azl::integration::classify_failure(failed, request);
    (void)azl::integration::is_safe_cli_argument(text);
    return 0;
}
