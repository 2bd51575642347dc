#include <azl/common/error.hpp>
#include <azl/common/wsl_facts.hpp>
#include <azl/packaging/assets.hpp>
#include <azl/packaging/wsl_config.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace azl::packaging
{

namespace
{

constexpr std::size_t kMaxTemplateBytes = 1U << 20U;

} // namespace

void validate_default_name(std::string_view name, std::string_view option)
{
    if (!valid_wsl_name(name))
    {
        throw UserError(
            fmt::format(
                "{} '{}': WSL takes 1 to 256 letters, digits, '.', '_' or '-' as a name, but not "
                "Legacy",
                option,
                name),
            "e.g. AzureLinux or AzureLinux-4.0");
    }
}

std::string render_distribution_conf(const DistributionConf& conf)
{
    validate_default_name(conf.default_name, "default name");
    return fmt::format(
        "# How WSL installs this distribution (WSL 2.4.4 or later). Written by azurelinux image "
        "build.\n"
        "\n"
        "[oobe]\n"
        "command = {}\n"
        "defaultUid = {}\n"
        "defaultName = {}\n"
        "\n"
        "[shortcut]\n"
        "enabled = true\n"
        "icon = {}\n"
        "\n"
        "[windowsterminal]\n"
        "enabled = true\n"
        "profileTemplate = {}\n",
        conf.oobe_command,
        conf.default_uid,
        conf.default_name,
        conf.icon,
        conf.profile_template);
}

std::string render_wsl_conf(SystemdBoot boot)
{
    std::string text(text_asset(TextAsset::wsl_conf));
    if (boot == SystemdBoot::on)
    {
        text += "\n[boot]\nsystemd = true\n";
    }
    return text;
}

std::string render_terminal_profile()
{
    const std::string_view text = text_asset(TextAsset::terminal_profile);
    // The template is ours, built in: a bad one is a bug of this program, not the user's input.
    const auto doc = nlohmann::json::parse(text, nullptr, false, false);
    const bool ok = doc.is_object() && doc.contains("profiles") && doc["profiles"].is_array()
                    && !doc["profiles"].empty() && text.size() <= kMaxTemplateBytes;
    if (!ok)
    {
        throw std::logic_error("the built-in Terminal profile template is not what WSL accepts");
    }
    for (const auto& profile : doc["profiles"])
    {
        if (!profile.is_object())
        {
            throw std::logic_error(
                "the built-in Terminal profile template has a non-object profile");
        }
    }
    return std::string(text);
}

} // namespace azl::packaging
