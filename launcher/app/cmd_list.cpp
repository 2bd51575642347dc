#include "context.hpp"

#include <fmt/format.h>

namespace azl::app
{

void add_list(CLI::App& app, Context& ctx)
{
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand("list", "List the installed distributions");
    cmd->footer(
        R"(Shows each distribution's state, version, default user, whether first-run setup finished,
and where its files are. A half-done install is never listed as installed.

Examples:
  azurelinux list
  azurelinux list --json)");
    cmd->add_flag("--json", *json, "Print a JSON array on stdout");
    cmd->callback(
        [json, &ctx]
        {
            const auto distros = ctx.backend().list();
            fmt::print(
                "{}", *json ? launcher::format_list_json(distros) : launcher::format_list(distros));
        });
}

} // namespace azl::app
