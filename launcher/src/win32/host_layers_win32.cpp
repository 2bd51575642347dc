// read_host_layers() on Windows: the policy key read natively (UTF-16, every value type), the
// ProgramData and profile folders from the known-folder API.
#include "../host_layers_read.hpp"
#include "registry_win32.hpp"

#include <azl/common/win32/win32.hpp>

namespace azl::launcher
{

namespace fs = std::filesystem;

HostLayers read_host_layers(const std::string& distro, const std::optional<fs::path>& user_answers)
{
    HostLayers layers;
    const OriginOf origin = [](const fs::path& p) { return win32::to_utf8(p.wstring()); };
    try
    {
        // The 64-bit view, where Group Policy and Intune write, whatever this program's bitness.
        if (const auto key = winreg::open_key(
                HKEY_LOCAL_MACHINE,
                L"SOFTWARE\\Policies\\AzureLinux\\WSL",
                KEY_READ | KEY_WOW64_64KEY))
        {
            for (auto& [name, v] : winreg::read_values(key->get()))
            {
                layers.registry.emplace(name, HostRegistryValue{v.type, std::move(v.items)});
            }
        }
        layers.registry_read = true;
    }
    catch (const std::exception& e)
    {
        layers.notes.emplace_back(e.what());
    }
    if (const fs::path data = winreg::known_folder(FOLDERID_ProgramData); !data.empty())
    {
        layers.program_data = read_layer_file(data / L"AzureLinux" / L"oobe.json", origin, layers);
    }
    read_profile_layers(
        winreg::known_folder(FOLDERID_Profile), distro, user_answers, origin, layers);
    return layers;
}

} // namespace azl::launcher
