// Fuzzes the cloud-init user-data translation (YAML through yaml-cpp, then the #cloud-config keys):
// any input is either translated into a layer or refused with a UserError (AnswersError naming the
// file); a translated layer merges, and its answers are either valid or refused, for both families.
#include <azl/common/error.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/cloud_init.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    // Most inputs get the header, so the fuzzer explores the YAML and the keys behind it.
    const std::string text =
        raw.starts_with('#') ? std::string(raw) : "#cloud-config\n" + std::string(raw);
    for (const auto family : {azl::oobe::Family::rpm, azl::oobe::Family::debian})
    {
        azl::oobe::CloudConfigTarget target;
        target.family = family;
        target.release_codename = "bookworm";
        target.group_exists = [](std::string_view g) { return g.size() % 2 == 0; };
        try
        {
            std::vector<azl::oobe::Layer> layers;
            layers.push_back(azl::oobe::translate_cloud_config("fuzz.user-data", text, target));
            const auto merged = azl::oobe::merge_layers(std::move(layers));
            (void)azl::oobe::effective_values(merged);
            (void)azl::oobe::parse_answers(merged);
        }
        catch (const azl::UserError&)
        {
        }
    }
    return 0;
}
