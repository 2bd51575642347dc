#include "context.hpp"

#include <azl/common/error.hpp>

#include <fmt/format.h>

namespace azl::app
{

void add_terminate(CLI::App& app, Context& ctx)
{
    auto name = std::make_shared<std::string>(launcher::kDefaultName);
    CLI::App* cmd = app.add_subcommand("terminate", "Stop every process of a distribution");
    cmd->footer(
        R"(Like wsl --terminate: the next launch starts it afresh (its [boot] command runs again and
/etc/wsl.conf changes apply).

Examples:
  azurelinux terminate
  azurelinux terminate --name Dev)");
    add_name_option(*cmd, *name);
    cmd->callback(
        [name, &ctx]
        {
            launcher::validate_name(*name);
            ctx.backend().terminate(*name);
            fmt::print("Stopped {}\n", *name);
        });
}

} // namespace azl::app
