// Fuzzes the first-run answers file reader and validator (JSON document, version 1): any input is
// either accepted or refused with a UserError; an accepted document has a digest, and its user
// name, when there is one, is a valid name. The same input as two layers (machine policy over a
// user's file) merged, validated and listed for --dry-run; and as `reg.exe query` output turned
// into the registry policy layer.
#include <azl/common/error.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/policy.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try
    {
        const auto answers = azl::oobe::parse_answers(text, "fuzz.json");
        (void)azl::oobe::answers_digest(text);
        (void)answers;
    }
    catch (const azl::UserError&)
    {
    }
    try
    {
        using azl::oobe::LayerKind;
        std::vector<azl::oobe::Layer> layers;
        layers.push_back(azl::oobe::load_layer(LayerKind::machine_policy, "policy.json", text));
        layers.push_back(azl::oobe::load_layer(LayerKind::user, "user.json", text));
        const auto merged = azl::oobe::merge_layers(std::move(layers));
        (void)azl::oobe::parse_answers(merged);
        (void)azl::oobe::effective_values(merged);
    }
    catch (const azl::UserError&)
    {
    }
    try
    {
        std::vector<std::string> ignored;
        (void)azl::oobe::policy_layer(
            azl::oobe::parse_reg_query(text), azl::oobe::kPolicyKey, ignored);
    }
    catch (const azl::UserError&)
    {
    }
    (void)azl::oobe::username_problem(text.substr(0, 64));
    (void)azl::oobe::suggest_username(text.substr(0, 64));
    (void)azl::oobe::is_crypt_hash(text);
    return 0;
}
