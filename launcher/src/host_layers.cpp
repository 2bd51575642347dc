#include "host_layers_read.hpp"

#include <azl/common/fs.hpp>
#include <azl/common/text.hpp>
#include <azl/launcher/backend.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace azl::launcher
{

namespace fs = std::filesystem;

std::optional<HostLayerFile>
read_layer_file(const fs::path& file, const OriginOf& origin, HostLayers& layers)
{
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
    {
        return std::nullopt;
    }
    const auto size = fs::file_size(file, ec);
    if (ec || size > kMaxHostLayerFile)
    {
        layers.notes.push_back(fmt::format(
            "{}: larger than {} bytes, not used for first-run setup",
            origin(file),
            kMaxHostLayerFile));
        return std::nullopt;
    }
    try
    {
        return HostLayerFile{origin(file), read_file(file, kMaxHostLayerFile)};
    }
    catch (const std::exception& e)
    {
        layers.notes.emplace_back(e.what());
        return std::nullopt;
    }
}

void read_profile_layers(
    const fs::path& profile,
    const std::string& distro,
    const std::optional<fs::path>& user_answers,
    const OriginOf& origin,
    HostLayers& layers)
{
    if (user_answers)
    {
        layers.user = read_layer_file(*user_answers, origin, layers);
    }
    else if (!profile.empty())
    {
        const fs::path folder = profile / ".azurelinux";
        layers.user = read_layer_file(folder / path_from_utf8(distro + ".json"), origin, layers);
        if (!layers.user)
        {
            layers.user = read_layer_file(folder / "default.json", origin, layers);
        }
    }
    if (profile.empty())
    {
        return;
    }
    std::error_code ec;
    for (fs::directory_iterator it(profile / ".cloud-init", ec), end; !ec && it != end;
         it.increment(ec))
    {
        const std::string name = path_to_utf8(it->path().filename());
        if (ascii_lower(name).ends_with(".user-data"))
        {
            if (auto file = read_layer_file(it->path(), origin, layers))
            {
                layers.cloud_init.emplace(name, std::move(*file));
            }
        }
    }
}

std::string host_layers_json(const HostLayers& layers)
{
    using nlohmann::json;
    const auto file = [](const std::optional<HostLayerFile>& f) {
        return f ? json{{"origin", f->origin}, {"text", f->text}} : json(nullptr);
    };
    json values = json::object();
    for (const auto& [name, v] : layers.registry)
    {
        values[name] = {{"type", v.type}, {"items", v.items}};
    }
    json cloud_init = json::object();
    for (const auto& [name, f] : layers.cloud_init)
    {
        cloud_init[name] = {{"origin", f.origin}, {"text", f.text}};
    }
    return json{
        {"version", 1},
        {"registry", {{"read", layers.registry_read}, {"values", values}}},
        {"program_data", file(layers.program_data)},
        {"user", file(layers.user)},
        {"cloud_init", cloud_init}}
        .dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace azl::launcher
