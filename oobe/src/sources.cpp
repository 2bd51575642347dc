#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/common/process.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/cloud_init.hpp>
#include <azl/oobe/family.hpp>
#include <azl/oobe/policy.hpp>
#include <azl/oobe/sources.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>

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

bool is_file(const fs::path& p)
{
    std::error_code ec;
    return fs::is_regular_file(p, ec);
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
    if (!is_file(path))
    {
        return std::nullopt;
    }
    const auto source = read_source(path);
    return load_layer(kind, source.path.string(), source.text);
}

// The cloud-init user-data under the profile, for this distribution: its os-release names the
// <ID>-<VERSION_ID> candidates and its family which repositories apply.
std::optional<Layer> cloud_init_user_data(const fs::path& profile, std::string_view instance)
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
    return cloud_init_layer(profile, instance, os, guest_cloud_config_target(os));
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

std::vector<Layer>
find_layers(const std::optional<fs::path>& explicit_file, const fs::path& image_file)
{
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
    const char* distro_env = std::getenv("WSL_DISTRO_NAME");
    const std::string distro = distro_env != nullptr ? distro_env : "";
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
