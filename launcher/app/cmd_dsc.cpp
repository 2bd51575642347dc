#include "context.hpp"
#include "stdout_aside.hpp"

#include <azl/common/program.hpp>
#include <azl/launcher/dsc.hpp>

#include <nlohmann/json.hpp>

#include <iostream>
#include <iterator>

namespace azl::app
{

namespace
{

// DSC shows a resource's JSON Lines on stderr as messages of their level.
class DscConsole final : public launcher::Console
{
public:
    bool interactive() override
    {
        return false;
    }

    bool confirm(std::string_view /*question*/) override
    {
        return false;
    }

    void status(std::string_view line) override
    {
        std::cerr << nlohmann::json{{"info", line}}.dump() << '\n' << std::flush;
    }
};

struct DscArgs
{
    std::string input; // else stdin
};

std::string read_input(const DscArgs& args)
{
    if (!args.input.empty())
    {
        return args.input;
    }
    return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
}

std::string line(const nlohmann::json& j)
{
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void add_operation(
    CLI::App& dsc,
    Context& ctx,
    const std::string& operation,
    const std::string& description,
    const std::shared_ptr<DscArgs>& args)
{
    CLI::App* cmd = dsc.add_subcommand(operation, description);
    cmd->add_option("--input", args->input, "The instance as JSON (default: read from stdin)");
    cmd->callback(
        [args, operation, &ctx]
        {
            const std::string text = read_input(*args);
            DscConsole console;
            const launcher::CommandEnv env{
                .console = console,
                .exe_dir = azl::executable_path().parent_path(),
                .progress = ProgressMode::off};
            // From here on, stdout carries JSON Lines only; all else goes to stderr.
            StdoutAside out;
            if (operation == "export")
            {
                std::optional<std::string> only;
                if (text.find_first_not_of(" \t\r\n") != std::string::npos)
                {
                    only = launcher::parse_dsc_input(text, true).name;
                }
                for (const auto& state : launcher::dsc_export(ctx.backend()))
                {
                    if (!only || state["name"] == *only)
                    {
                        out.write(line(state));
                    }
                }
                return;
            }
            const auto desired = launcher::parse_dsc_input(text, operation == "get");
            if (operation == "get")
            {
                out.write(line(launcher::dsc_get(ctx.backend(), desired)));
                return;
            }
            const launcher::DscResult result =
                operation == "test"
                    ? launcher::dsc_test(ctx.backend(), desired, env)
                    : launcher::dsc_set(ctx.backend(), desired, env, launcher::download_file);
            out.write(line(result.state));
            out.write(line(nlohmann::json(result.properties)));
        });
}

} // namespace

void add_dsc(CLI::App& app, Context& ctx)
{
    CLI::App* dsc = app.add_subcommand(
        "dsc", "PowerShell DSC v3 resource AzureLinux.WSL/Distribution (WinGet, Dev Box, Intune)");
    dsc->require_subcommand(1);
    dsc->footer(
        R"(Each operation reads one instance as JSON on stdin (or --input) and prints JSON Lines on
stdout; messages go to stderr. get: the actual state. test: the actual state with _inDesiredState,
then the properties that differ. set: makes it so (install from "image", first-run setup with
"answers" or "answersFile", "defaultUser", or removal with "_exist": false) and prints the state,
then the properties it changed; a second set changes nothing. export: one line per distribution.
The resource manifest is azurelinux.dsc.resource.json; docs/enterprise.md shows WinGet, Dev Box
and Intune using it.

Examples:
  azurelinux dsc get --input '{"name":"Dev"}'
  echo '{"name":"Dev","image":"C:\\images\\AzureLinux.wsl","answersFile":"C:\\dev\\answers.json"}' | azurelinux dsc set
  azurelinux dsc test --input '{"name":"Old","_exist":false}'
  azurelinux dsc export)");
    auto args = std::make_shared<DscArgs>();
    add_operation(*dsc, ctx, "get", "Print the actual state of one distribution", args);
    add_operation(*dsc, ctx, "test", "Compare the actual state with the desired one", args);
    add_operation(*dsc, ctx, "set", "Make the actual state the desired one", args);
    add_operation(*dsc, ctx, "export", "Print the state of every distribution", args);
}

} // namespace azl::app
