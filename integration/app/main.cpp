#include "context.hpp"

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/common/program.hpp>
#include <azl/integration/host_cli.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

namespace
{

// Everything but the top-level catch: building the CLI can throw too (CLI11's construction errors).
int run_cli(int argc, char** argv)
{
    using azl::ExitCode;
    azl::bridge_app::Context ctx;
    CLI::App app{
        "azurelinux-bridge — the Windows Azure CLI's sign-in for tools in this distribution",
        "azurelinux-bridge"};
    app.set_version_flag("--version", std::string("azurelinux-bridge ") + AZL_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    app.add_flag("-v,--verbose", ctx.verbose, "More output on stderr (-vv for debug)");
    app.add_flag("-q,--quiet", ctx.quiet, "Only errors on stderr");
    app.add_option("--log-file", ctx.log_file, "Append a debug-level log to this file");
    app.parse_complete_callback(
        [&ctx]
        {
            azl::setup_logging(
                {.verbosity = azl::verbosity_from_flags(ctx.verbose, ctx.quiet),
                 .log_file = ctx.log_file});
        });
    azl::bridge_app::add_serve(app, ctx);
    azl::bridge_app::add_env(app, ctx);
    azl::bridge_app::add_token(app, ctx);
    azl::bridge_app::add_status(app, ctx);
    azl::bridge_app::add_sync(app, ctx);
    azl::bridge_app::add_az_login(app, ctx);
    azl::bridge_app::add_ssh_agent(app, ctx);
    azl::bridge_app::add_gpg_agent(app, ctx);
    azl::bridge_app::add_git_credential(app, ctx);
    try
    {
        app.parse(argc, argv);
        return ctx.exit_code;
    }
    catch (const CLI::ParseError& e)
    {
        return app.exit(e) == 0 ? 0 : static_cast<int>(ExitCode::usage);
    }
    catch (const azl::integration::HostError& e)
    {
        // The host CLI's failure, already worded for the person at the terminal.
        fmt::print(stderr, "azurelinux-bridge: {}\n", e.what());
        return static_cast<int>(ExitCode::user_error);
    }
}

} // namespace

int main(int argc, char** argv)
{
    return azl::run_program("azurelinux-bridge", [&] { return run_cli(argc, argv); });
}
