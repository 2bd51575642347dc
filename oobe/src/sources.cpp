#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/common/process.hpp>
#include <azl/common/text.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/cloud_init.hpp>
#include <azl/oobe/family.hpp>
#include <azl/oobe/policy.hpp>
#include <azl/oobe/sources.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>

namespace azl::oobe
{

namespace fs = std::filesystem;

namespace
{

constexpr std::chrono::seconds kInteropTimeout{10};

std::string first_line(std::string_view text)
{
    const auto end = text.find_first_of("\r\n");
    return std::string(text.substr(0, end));
}

AnswersSource read_source(const fs::path& path)
{
    struct stat st = {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0)
    {
        logger("oobe")->warn(
            "{} is readable by every user: answers can hold password hashes and proxy "
            "credentials; `chmod 600` it",
            path.string());
    }
    try
    {
        return {path, read_file(path, 16U << 20U)};
    }
    catch (const UserError& e)
    {
        // read_file's message already names the file.
        throw UserError(e.what(), "check the path given to --answers", ExitCode::usage);
    }
}

} // namespace

std::optional<std::string> windows_environment(std::string_view name)
{
    if (!find_program("cmd.exe"))
    {
        return std::nullopt;
    }
    ProcessOptions opts;
    opts.timeout = kInteropTimeout;
    std::error_code ec;
    if (fs::is_directory("/mnt/c", ec))
    {
        opts.cwd = "/mnt/c"; // cmd.exe warns about and then ignores a Linux working directory
    }
    try
    {
        const auto result = run_process({"cmd.exe", "/c", fmt::format("echo %{}%", name)}, opts);
        auto value = first_line(result.out);
        if (!result.ok() || value.empty() || value == fmt::format("%{}%", name))
        {
            return std::nullopt;
        }
        return value;
    }
    catch (const UserError&)
    {
        return std::nullopt; // interop disabled: the binfmt handler refuses to start it
    }
}

std::optional<fs::path> guest_path_of(std::string_view windows_path)
{
    if (!find_program("wslpath"))
    {
        return std::nullopt;
    }
    ProcessOptions opts;
    opts.timeout = kInteropTimeout;
    const auto result = run_process({"wslpath", "-u", std::string(windows_path)}, opts);
    auto path = first_line(result.out);
    if (!result.ok() || path.empty())
    {
        return std::nullopt;
    }
    return fs::path(path);
}

namespace
{

// The registry policy through interop's reg.exe: nothing when there is no reg.exe or no key.
std::optional<Layer> registry_policy()
{
    if (!find_program("reg.exe"))
    {
        return std::nullopt;
    }
    ProcessOptions opts;
    opts.timeout = kInteropTimeout;
    try
    {
        const auto result = run_process({"reg.exe", "query", std::string(kPolicyKey)}, opts);
        if (!result.ok())
        {
            return std::nullopt; // "ERROR: The system was unable to find the specified registry
                                 // key"
        }
        std::vector<std::string> ignored;
        auto layer = policy_layer(parse_reg_query(result.out), kPolicyKey, ignored);
        for (const auto& name : ignored)
        {
            logger("oobe")->warn(
                "{}\\{}: not a policy value this version reads; ignored", kPolicyKey, name);
        }
        return layer;
    }
    catch (const AnswersError&)
    {
        throw;
    }
    catch (const UserError&)
    {
        return std::nullopt; // interop disabled
    }
}

std::optional<Layer> file_layer(LayerKind kind, const fs::path& path)
{
    logger("oobe")->debug("looking for {} answers at {}", layer_name(kind), path.string());
    if (!regular_file_exists(path))
    {
        return std::nullopt;
    }
    const auto source = read_source(path);
    return load_layer(kind, source.path.string(), source.text);
}

// What cloud-init's translation needs to know about this distribution; nullopt (with a warning)
// when its os-release cannot be read.
std::optional<std::pair<OsRelease, CloudConfigTarget>> cloud_init_target()
{
    OsRelease os;
    try
    {
        os = OsRelease::load();
    }
    catch (const UserError& e)
    {
        logger("oobe")->warn("{}; cloud-init user-data is not read", e.what());
        return std::nullopt;
    }
    CloudConfigTarget target = guest_cloud_config_target(os);
    return std::pair{std::move(os), std::move(target)};
}

// The cloud-init user-data under the profile, for this distribution: its os-release names the
// <ID>-<VERSION_ID> candidates and its family which repositories apply.
std::optional<Layer> cloud_init_user_data(const fs::path& profile, std::string_view instance)
{
    const auto target = cloud_init_target();
    if (!target)
    {
        return std::nullopt;
    }
    return cloud_init_layer(profile, instance, target->first, target->second);
}

std::optional<fs::path> windows_folder(std::string_view variable)
{
    if (const auto value = windows_environment(variable))
    {
        return guest_path_of(*value);
    }
    return std::nullopt;
}

} // namespace

namespace
{

// A file of the launcher's document: {"origin", "text"}, or null.
std::optional<std::pair<std::string, std::string>> bundle_file(const nlohmann::json& j)
{
    if (j.is_null())
    {
        return std::nullopt;
    }
    return std::pair{j.at("origin").get<std::string>(), j.at("text").get<std::string>()};
}

// The layers in the launcher's document of the Windows side (host_layers.hpp in the launcher).
std::vector<Layer> layers_from_host(
    const fs::path& file,
    const std::optional<fs::path>& explicit_file,
    const fs::path& image_file,
    const std::string& distro)
{
    const auto source = read_source(file);
    nlohmann::json doc;
    try
    {
        doc = nlohmann::json::parse(source.text);
        if (doc.at("version").get<int>() != 1)
        {
            throw AnswersError(
                file.string(), "/version", "is not 1: update azurelinux-oobe in this image");
        }
    }
    catch (const nlohmann::json::exception& e)
    {
        throw AnswersError(
            file.string(), "", fmt::format("not the launcher's layers document ({})", e.what()));
    }
    std::vector<Layer> layers;
    try
    {
        const auto& registry = doc.at("registry");
        if (registry.at("read").get<bool>())
        {
            std::map<std::string, RegistryValue> values;
            for (const auto& [name, v] : registry.at("values").items())
            {
                values[name] = RegistryValue{
                    v.at("type").get<std::string>(), v.at("items").get<std::vector<std::string>>()};
            }
            std::vector<std::string> ignored;
            if (auto layer = policy_layer(values, kPolicyKey, ignored))
            {
                layers.push_back(std::move(*layer));
            }
            for (const auto& name : ignored)
            {
                logger("oobe")->warn(
                    "{}\\{}: not a policy value this version reads; ignored", kPolicyKey, name);
            }
        }
        else if (auto layer = registry_policy())
        {
            layers.push_back(std::move(*layer)); // the launcher could not read it: try ourselves
        }
        if (const auto f = bundle_file(doc.at("program_data")))
        {
            layers.push_back(load_layer(LayerKind::machine_policy, f->first, f->second));
        }
        if (explicit_file)
        {
            const auto own = read_source(*explicit_file);
            layers.push_back(load_layer(LayerKind::user, own.path.string(), own.text));
        }
        else if (const auto f = bundle_file(doc.at("user")))
        {
            layers.push_back(load_layer(LayerKind::user, f->first, f->second));
        }
        const auto& cloud_init = doc.at("cloud_init");
        if (!cloud_init.empty())
        {
            if (const auto target = cloud_init_target())
            {
                for (const auto& candidate : cloud_init_candidates(distro, target->first))
                {
                    const auto it = std::find_if(
                        cloud_init.items().begin(),
                        cloud_init.items().end(),
                        [&candidate](const auto& item)
                        { return ascii_iequals(item.key(), candidate); });
                    if (it != cloud_init.items().end())
                    {
                        const auto f = bundle_file(it.value());
                        layers.push_back(
                            translate_cloud_config(f->first, f->second, target->second));
                        break;
                    }
                }
            }
        }
    }
    catch (const nlohmann::json::exception& e)
    {
        throw AnswersError(
            file.string(), "", fmt::format("not the launcher's layers document ({})", e.what()));
    }
    if (auto image = file_layer(LayerKind::image, image_file))
    {
        layers.push_back(std::move(*image));
    }
    return layers;
}

} // namespace

std::vector<Layer> find_layers(
    const std::optional<fs::path>& explicit_file,
    const fs::path& image_file,
    const std::optional<fs::path>& host_layers)
{
    const char* distro_env = std::getenv("WSL_DISTRO_NAME");
    const std::string distro = distro_env != nullptr ? distro_env : "";
    if (host_layers)
    {
        return layers_from_host(*host_layers, explicit_file, image_file, distro);
    }
    std::vector<Layer> layers;
    const auto add = [&layers](std::optional<Layer> layer)
    {
        if (layer)
        {
            layers.push_back(std::move(*layer));
        }
    };
    add(registry_policy());
    if (const auto program_data = windows_folder("ProgramData"))
    {
        add(file_layer(LayerKind::machine_policy, *program_data / "AzureLinux" / "oobe.json"));
    }
    const auto profile = windows_folder("USERPROFILE");
    if (explicit_file)
    {
        const auto source = read_source(*explicit_file);
        layers.push_back(load_layer(LayerKind::user, source.path.string(), source.text));
    }
    else if (profile)
    {
        std::optional<Layer> user;
        if (!distro.empty())
        {
            user = file_layer(
                LayerKind::user, *profile / ".azurelinux" / fmt::format("{}.json", distro));
        }
        if (!user)
        {
            user = file_layer(LayerKind::user, *profile / ".azurelinux" / "default.json");
        }
        add(std::move(user));
    }
    if (profile)
    {
        add(cloud_init_user_data(*profile, distro));
    }
    add(file_layer(LayerKind::image, image_file));
    return layers;
}

} // namespace azl::oobe
