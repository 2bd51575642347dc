#pragma once
// The organisation's registry policy, HKLM\SOFTWARE\Policies\AzureLinux\WSL (what Group Policy and
// Intune deploy through packaging/policy/AzureLinuxWSL.admx), as a machine policy layer.

#include <azl/oobe/layers.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// The policy key, as reg.exe and the ADMX template name it.
inline constexpr std::string_view kPolicyKey = R"(HKLM\SOFTWARE\Policies\AzureLinux\WSL)";

// One registry value as `reg.exe query` prints it.
struct RegistryValue
{
    std::string type;               // REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, ...
    std::vector<std::string> items; // REG_MULTI_SZ: each string; otherwise the one printed datum
};

// Parses the output of `reg.exe query KEY` (no /s): "    NAME    TYPE    DATA" lines under the
// key's line, CRLF or LF; REG_MULTI_SZ data is split at its printed "\0" separators. Subkeys and
// other lines are skipped.
std::map<std::string, RegistryValue> parse_reg_query(std::string_view output);

// The machine policy layer the values make (nullopt when there are none):
//   Answers (REG_SZ/REG_MULTI_SZ)   an answers document (JSON; a multi-string's lines are joined)
//   LockedKeys (REG_MULTI_SZ/REG_SZ) keys no lower layer may set ("/proxy", "timezone", ...)
//   Timezone, Locale, HttpProxy, HttpsProxy (REG_SZ), NoProxy (REG_SZ, ',' or ';' separated),
//   Packages (REG_MULTI_SZ), AzureBridge (REG_DWORD 0/1)
// The named values win over the same keys in Answers. Unknown value names are put in `ignored`.
// Throws AnswersError naming the key and value for a value of the wrong type or bad JSON.
std::optional<Layer> policy_layer(
    const std::map<std::string, RegistryValue>& values,
    std::string_view origin,
    std::vector<std::string>& ignored);

} // namespace azl::oobe
