#include "assets_data.hpp"

#include <azl/packaging/assets.hpp>
#include <azl/packaging/ico.hpp>

#include <fmt/format.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace azl::packaging
{

namespace
{

constexpr std::array<unsigned, 7> kIconSizes = {16, 24, 32, 48, 64, 128, 256};

std::optional<std::string_view> find_embedded(std::string_view name)
{
    for (const auto& file : detail::embedded_files())
    {
        if (file.name == name)
        {
            return file.bytes;
        }
    }
    return std::nullopt;
}

std::string_view embedded(std::string_view name)
{
    if (const auto bytes = find_embedded(name))
    {
        return *bytes;
    }
    throw std::out_of_range(fmt::format("no embedded asset {}", name));
}

} // namespace

std::string_view text_asset(TextAsset asset)
{
    switch (asset)
    {
    case TextAsset::terminal_profile:
        return embedded("terminal-profile.json");
    case TextAsset::wsl_conf:
        return embedded("wsl.conf");
    case TextAsset::answers_template:
        return embedded("answers.template.json");
    case TextAsset::bridge_conf:
        return embedded("bridge.conf");
    }
    throw std::out_of_range("unknown text asset");
}

std::optional<std::string_view> bridge_hook()
{
    return find_embedded("azurelinux-bridge.sh");
}

std::optional<std::string_view> bridge_user_unit()
{
    return find_embedded("azurelinux-bridge.service");
}

std::optional<std::string_view> bridge_gitconfig()
{
    return find_embedded("gitconfig");
}

std::span<const unsigned> icon_sizes()
{
    return kIconSizes;
}

std::string_view icon_png(unsigned size)
{
    return embedded(fmt::format("icon-{}.png", size));
}

std::string icon_ico()
{
    std::vector<std::string_view> frames;
    frames.reserve(kIconSizes.size());
    for (const unsigned size : kIconSizes)
    {
        frames.push_back(icon_png(size));
    }
    return write_ico(frames, "azurelinux.ico");
}

} // namespace azl::packaging
