// read_host_layers() in the Linux sandbox: the folder standing in for C: ($AZL_SANDBOX_DRIVE_C,
// as the sandbox mounts it at /mnt/c), the login name's profile under Users\, and the registry
// policy key as a file of reg.exe-style lines.
#include "../host_layers_read.hpp"
#include "sandbox_backend.hpp"

#include <azl/common/fs.hpp>
#include <azl/common/text.hpp>

#include <fmt/format.h>

#include <pwd.h>
#include <unistd.h>

#include <algorithm>

namespace azl::launcher
{

namespace fs = std::filesystem;

namespace
{

// The registry stand-in: "NAME<TAB>TYPE<TAB>DATA" lines; REG_MULTI_SZ items joined by "\0".
void read_registry(const fs::path& file, const OriginOf& origin, HostLayers& layers)
{
    std::error_code ec;
    if (!fs::exists(file, ec))
    {
        layers.registry_read = true;
        return;
    }
    const auto text = read_layer_file(file, origin, layers);
    if (!text)
    {
        return;
    }
    std::size_t start = 0;
    while (start < text->text.size())
    {
        auto end = text->text.find('\n', start);
        if (end == std::string::npos)
        {
            end = text->text.size();
        }
        std::string line = text->text.substr(start, end - start);
        start = end + 1;
        if (!line.empty() && line.back() == '\r')
        {
            line.pop_back();
        }
        const auto tab1 = line.find('\t');
        const auto tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
        if (tab2 == std::string::npos)
        {
            continue;
        }
        HostRegistryValue v;
        v.type = line.substr(tab1 + 1, tab2 - tab1 - 1);
        const std::string data = line.substr(tab2 + 1);
        if (v.type == "REG_MULTI_SZ")
        {
            std::size_t from = 0;
            for (auto sep = data.find("\\0"); from <= data.size(); sep = data.find("\\0", from))
            {
                const auto stop = sep == std::string::npos ? data.size() : sep;
                if (stop > from)
                {
                    v.items.push_back(data.substr(from, stop - from));
                }
                if (sep == std::string::npos)
                {
                    break;
                }
                from = sep + 2;
            }
        }
        else
        {
            v.items.push_back(data);
        }
        layers.registry.emplace(line.substr(0, tab1), std::move(v));
    }
    layers.registry_read = true;
}

std::string login_name()
{
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_name != nullptr)
    {
        return pw->pw_name;
    }
    return "user";
}

} // namespace

HostLayers read_host_layers(const std::string& distro, const std::optional<fs::path>& user_answers)
{
    HostLayers layers;
    fs::path drive;
    try
    {
        drive = sandbox::store_paths({}).drive_c;
    }
    catch (const std::exception& e)
    {
        layers.notes.emplace_back(e.what());
        return layers;
    }
    // Paths under the stand-in C: are named as Windows would name them.
    const OriginOf origin = [drive](const fs::path& p)
    {
        const fs::path relative = p.lexically_relative(drive);
        if (relative.empty() || relative.native().starts_with(".."))
        {
            return p.string();
        }
        std::string text = "C:\\" + relative.string();
        std::replace(text.begin(), text.end(), '/', '\\');
        return text;
    };
    read_registry(
        drive / ".registry" / "HKLM" / "SOFTWARE" / "Policies" / "AzureLinux" / "WSL",
        origin,
        layers);
    layers.program_data =
        read_layer_file(drive / "ProgramData" / "AzureLinux" / "oobe.json", origin, layers);
    read_profile_layers(drive / "Users" / login_name(), distro, user_answers, origin, layers);
    return layers;
}

} // namespace azl::launcher
