// `azurelinux dsc`: get / test / set / export of AzureLinux.WSL/Distribution over Backend calls.
#include "guest.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/text.hpp>
#include <azl/launcher/dsc.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace azl::launcher
{

namespace
{

using nlohmann::json;

constexpr std::array<std::string_view, 11> kProperties = {
    "name",
    "_exist",
    "image",
    "sha256",
    "location",
    "answers",
    "answersFile",
    "defaultUser",
    // Read-only, and what DSC itself adds to an instance: accepted and ignored, so that the output
    // of get can be given back as input.
    "setupState",
    "wslVersion",
    "_inDesiredState",
};

[[noreturn]] void bad_property(std::string_view property, std::string_view problem)
{
    throw UserError(
        fmt::format("dsc input: \"{}\" {}", property, problem),
        "the properties are listed in the schema of azurelinux.dsc.resource.json",
        ExitCode::usage);
}

std::string string_property(const json& input, std::string_view property)
{
    const json& v = input.at(std::string(property));
    if (!v.is_string() || v.get_ref<const std::string&>().empty())
    {
        bad_property(property, "must be a non-empty string");
    }
    return v.get<std::string>();
}

bool is_url(std::string_view image)
{
    const std::string lower = ascii_lower(image.substr(0, 8));
    return lower.starts_with("http://") || lower.starts_with("https://");
}

bool same_location(const std::filesystem::path& a, const std::filesystem::path& b)
{
    const auto norm = [](const std::filesystem::path& p)
    {
        std::string text = path_to_utf8(p.lexically_normal());
        while (text.size() > 1 && (text.back() == '/' || text.back() == '\\'))
        {
            text.pop_back();
        }
        // Windows paths compare without case, and either slash.
        std::replace(text.begin(), text.end(), '\\', '/');
        return text;
    };
    const std::string x = norm(a);
    const std::string y = norm(b);
    const bool windows = x.size() > 1 && x[1] == ':';
    return windows ? ascii_iequals(x, y) : x == y;
}

// The answers as a file the guest can read: the given file, or the inline document written to a
// private temporary folder (it may hold a password hash) that lives as long as `holder`.
std::optional<std::filesystem::path>
answers_path(const DscDesired& desired, std::optional<TempDir>& holder)
{
    if (desired.answers_file)
    {
        return desired.answers_file;
    }
    if (!desired.answers)
    {
        return std::nullopt;
    }
    holder.emplace("azurelinux-dsc");
    const auto file = holder->path() / "answers.json";
    write_file_atomic(file, desired.answers->dump(2) + "\n", 0600);
    return file;
}

std::string setup_state(Backend& backend, const std::string& name)
{
    if (!backend.get_configuration(name).setup_pending)
    {
        return "done";
    }
    const auto status = guest_setup_status(backend, name, false);
    if (status && (status->state == "running" || status->state == "failed"))
    {
        return status->state;
    }
    return "pending";
}

// Whether first-run setup would change anything with these answers: its dry-run plan lists a step
// that is not done. UserError when the guest refuses the answers (they do not fit this image).
bool answers_drift(
    Backend& backend,
    const std::string& name,
    const std::filesystem::path& answers,
    const CommandEnv& env)
{
    const guest::OobeConfig oobe = guest::read_oobe_config(backend, name);
    if (!oobe.command)
    {
        return false; // no first-run setup to apply them: nothing can drift
    }
    // The same layers set would give it: the Windows side's when the guest takes them.
    LaunchSpec spec;
    spec.user = "root";
    std::optional<TempDir> holder;
    const FirstRunAnswers given =
        first_run_answers(backend, name, *oobe.command, answers, holder, env);
    spec.answers_file = given.file;
    spec.argv = {"/bin/sh", "-c", *oobe.command + " --dry-run --json" + given.args};
    const LaunchResult r = backend.launch(name, spec);
    if (r.exit_code != 0)
    {
        const std::string why = std::string(trim(r.err));
        throw UserError(
            fmt::format(
                "first-run setup of {} refused the answers: {}",
                name,
                why.empty() ? fmt::format("exit {}", r.exit_code) : why),
            "fix the answers; `azurelinux-oobe --check --answers FILE` in the guest says more");
    }
    try
    {
        const json plan = json::parse(r.out);
        const json& steps = plan.at("steps");
        return std::any_of(
            steps.begin(), steps.end(), [](const json& s) { return !s.at("done").get<bool>(); });
    }
    catch (const json::exception& e)
    {
        throw UserError(
            fmt::format(
                "first-run setup of {} printed a plan that is not JSON ({})", name, e.what()),
            "update the distribution's azurelinux-oobe (its --dry-run --json is needed)");
    }
}

void add_once(std::vector<std::string>& list, std::string_view property)
{
    if (std::find(list.begin(), list.end(), property) == list.end())
    {
        list.emplace_back(property);
    }
}

} // namespace

DscDesired parse_dsc_input(std::string_view text, bool for_get)
{
    json input;
    try
    {
        input = json::parse(text);
    }
    catch (const json::parse_error& e)
    {
        throw UserError(
            fmt::format("dsc input is not JSON: {}", e.what()),
            "DSC sends one instance as a JSON object on stdin",
            ExitCode::usage);
    }
    if (!input.is_object())
    {
        throw UserError(
            "dsc input is not a JSON object",
            "DSC sends one instance as a JSON object on stdin",
            ExitCode::usage);
    }
    for (const auto& [key, value] : input.items())
    {
        if (std::find(kProperties.begin(), kProperties.end(), key) == kProperties.end())
        {
            bad_property(key, "is not a property of " + std::string(kDscResourceType));
        }
    }
    DscDesired d;
    if (!input.contains("name"))
    {
        bad_property("name", "is required");
    }
    d.name = string_property(input, "name");
    try
    {
        validate_name(d.name);
    }
    catch (const UserError& e)
    {
        bad_property("name", e.what());
    }
    if (for_get)
    {
        return d;
    }
    if (input.contains("_exist"))
    {
        if (!input["_exist"].is_boolean())
        {
            bad_property("_exist", "must be true or false");
        }
        d.exist = input["_exist"].get<bool>();
    }
    if (input.contains("image"))
    {
        d.image = string_property(input, "image");
    }
    if (input.contains("sha256"))
    {
        std::string digest = ascii_lower(string_property(input, "sha256"));
        if (digest.size() != 64
            || !std::all_of(
                digest.begin(),
                digest.end(),
                [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
        {
            bad_property("sha256", "must be 64 hexadecimal digits");
        }
        d.sha256 = std::move(digest);
    }
    if (d.image && is_url(*d.image) && !d.sha256)
    {
        bad_property("image", "is a URL: give its \"sha256\" too, so the download can be checked");
    }
    if (input.contains("location"))
    {
        d.location = path_from_utf8(string_property(input, "location"));
    }
    if (input.contains("answers") && input.contains("answersFile"))
    {
        bad_property("answers", "and \"answersFile\" cannot both be given");
    }
    if (input.contains("answers"))
    {
        if (!input["answers"].is_object())
        {
            bad_property("answers", "must be an answers document (a JSON object)");
        }
        d.answers = input["answers"];
    }
    if (input.contains("answersFile"))
    {
        d.answers_file = path_from_utf8(string_property(input, "answersFile"));
    }
    if (input.contains("defaultUser"))
    {
        d.default_user = string_property(input, "defaultUser");
    }
    return d;
}

json dsc_get(Backend& backend, const DscDesired& desired)
{
    json state{{"name", desired.name}};
    if (!backend.is_registered(desired.name))
    {
        state["_exist"] = false;
        return state;
    }
    const DistroDetails details = get_details(backend, desired.name);
    state["_exist"] = true;
    state["location"] = path_to_utf8(details.info.location);
    state["defaultUser"] = details.default_user;
    state["setupState"] = setup_state(backend, desired.name);
    state["wslVersion"] = details.configuration.version;
    return state;
}

DscResult dsc_test(Backend& backend, const DscDesired& desired, const CommandEnv& env)
{
    DscResult result{dsc_get(backend, desired), {}};
    const bool exists = result.state["_exist"].get<bool>();
    if (exists != desired.exist)
    {
        result.properties.emplace_back("_exist");
    }
    else if (exists)
    {
        if (desired.location
            && !same_location(
                *desired.location, path_from_utf8(result.state["location"].get<std::string>())))
        {
            result.properties.emplace_back("location");
        }
        const bool setup_done = result.state["setupState"] == "done";
        if (!setup_done)
        {
            result.properties.emplace_back("setupState");
        }
        std::optional<TempDir> holder;
        if (const auto answers = answers_path(desired, holder);
            answers && setup_done && answers_drift(backend, desired.name, *answers, env))
        {
            result.properties.emplace_back(desired.answers ? "answers" : "answersFile");
        }
        if (desired.default_user && result.state["defaultUser"] != *desired.default_user)
        {
            result.properties.emplace_back("defaultUser");
        }
    }
    result.state["_inDesiredState"] = result.properties.empty();
    return result;
}

DscResult
dsc_set(Backend& backend, const DscDesired& desired, const CommandEnv& env, DscDownloader download)
{
    DscResult result;
    const bool exists = backend.is_registered(desired.name);
    if (!desired.exist)
    {
        if (exists)
        {
            uninstall(backend, {.name = desired.name, .yes = true}, env);
            result.properties.emplace_back("_exist");
        }
        result.state = dsc_get(backend, desired);
        return result;
    }
    std::optional<TempDir> holder;
    const auto answers = answers_path(desired, holder);
    if (!exists)
    {
        if (!desired.image)
        {
            throw UserError(
                fmt::format("{} is not installed and no \"image\" is given", desired.name),
                R"(add "image" (a .wsl file or an https URL with "sha256") to the instance)");
        }
        std::optional<TempDir> download_dir;
        std::filesystem::path image = path_from_utf8(*desired.image);
        if (is_url(*desired.image))
        {
            download_dir.emplace("azurelinux-image");
            image = download_dir->path() / "image.wsl";
            env.console.status(fmt::format("Downloading {}", url_for_display(*desired.image)));
            download(*desired.image, image);
        }
        InstallOptions options;
        options.name = desired.name;
        options.from = image;
        options.location = desired.location;
        options.answers = answers;
        options.sha256 = desired.sha256;
        install(backend, options, env);
        result.properties.emplace_back("_exist");
    }
    else
    {
        const DistroDetails details = get_details(backend, desired.name);
        if (desired.location && !same_location(*desired.location, details.info.location))
        {
            throw UserError(
                fmt::format(
                    "{} is installed in {}, not in {}",
                    desired.name,
                    path_to_utf8(details.info.location),
                    path_to_utf8(*desired.location)),
                fmt::format(
                    "move it with `wsl --manage {} --move DIR`, or remove \"location\"",
                    desired.name));
        }
        if (details.configuration.setup_pending)
        {
            run_first_run(backend, desired.name, answers, env);
            add_once(result.properties, "setupState");
            if (answers)
            {
                add_once(result.properties, desired.answers ? "answers" : "answersFile");
            }
        }
        else if (answers && answers_drift(backend, desired.name, *answers, env))
        {
            run_first_run(backend, desired.name, answers, env);
            add_once(result.properties, desired.answers ? "answers" : "answersFile");
        }
    }
    if (desired.default_user)
    {
        const DistroDetails details = get_details(backend, desired.name);
        if (details.default_user != *desired.default_user)
        {
            ConfigOptions options;
            options.name = desired.name;
            options.default_user = desired.default_user;
            config(backend, options);
            add_once(result.properties, "defaultUser");
        }
    }
    result.state = dsc_get(backend, desired);
    return result;
}

std::string url_for_display(std::string_view url)
{
    const auto query = url.find_first_of("?#");
    return query == std::string_view::npos ? std::string(url)
                                           : std::string(url.substr(0, query)) + "?…";
}

std::vector<json> dsc_export(Backend& backend)
{
    std::vector<json> out;
    for (const DistroInfo& info : backend.list())
    {
        DscDesired desired;
        desired.name = info.name;
        out.push_back(dsc_get(backend, desired));
    }
    return out;
}

} // namespace azl::launcher
