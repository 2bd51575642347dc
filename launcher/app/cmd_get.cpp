#include "context.hpp"

#include <fmt/format.h>

namespace azl::app
{

namespace
{

struct GetArgs
{
    std::string name{launcher::kDefaultName};
    launcher::GetFields fields;
    bool json = false;
};

} // namespace

void add_get(CLI::App& app, Context& ctx)
{
    auto args = std::make_shared<GetArgs>();
    CLI::App* cmd = app.add_subcommand("get", "Show a distribution's settings");
    cmd->footer(
        R"(With one field, prints just its value (for scripts); otherwise "key: value" lines.

Examples:
  azurelinux get --default-user
  azurelinux get --all
  azurelinux get --name Dev --flags --location --json)");
    add_name_option(*cmd, args->name);
    cmd->add_flag("--default-user", args->fields.default_user, "The default user's name");
    cmd->add_flag("--default-uid", args->fields.default_uid, "The default uid");
    cmd->add_flag("--flags", args->fields.flags, "Interop, Windows path and drive mounting");
    cmd->add_flag("--version", args->fields.version, "The WSL version (the sandbox reports 2)");
    cmd->add_flag("--location", args->fields.location, "The folder holding its files");
    cmd->add_flag("--all", args->fields.all, "Everything (the default)");
    cmd->add_flag("--json", args->json, "Print JSON on stdout");
    cmd->callback(
        [args, &ctx]
        {
            const auto details = launcher::get_details(ctx.backend(), args->name);
            fmt::print(
                "{}",
                args->json ? launcher::format_get_json(details, args->fields)
                           : launcher::format_get(details, args->fields));
        });
}

} // namespace azl::app
