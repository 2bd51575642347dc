#pragma once
// The parts of read_host_layers() both platforms share: files found in the Windows-side folders.

#include <azl/launcher/host_layers.hpp>

#include <filesystem>
#include <functional>
#include <string>

namespace azl::launcher
{

// How a host path is named in messages and in the guest's provenance (a Windows path on Windows).
using OriginOf = std::function<std::string(const std::filesystem::path&)>;

// `file` when it is a regular file no larger than kMaxHostLayerFile; a note when it cannot be read.
std::optional<HostLayerFile>
read_layer_file(const std::filesystem::path& file, const OriginOf& origin, HostLayers& layers);

// The user's layer (`user_answers`, else the profile's .azurelinux\<distro>.json, else
// default.json) and every .cloud-init\*.user-data of `profile`.
void read_profile_layers(
    const std::filesystem::path& profile,
    const std::string& distro,
    const std::optional<std::filesystem::path>& user_answers,
    const OriginOf& origin,
    HostLayers& layers);

} // namespace azl::launcher
