#include "context.hpp"

#include <azl/common/error.hpp>
#include <azl/common/interrupt.hpp>
#include <azl/common/log.hpp>
#include <azl/common/program.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

namespace
{

// Everything but the top-level catch: building the CLI and converting argv can throw too.
int run_cli(int argc, char** argv)
{
    using azl::ExitCode;
    azl::install_interrupt_cleanup(); // Ctrl-C during a build leaves no temporary file behind
    // Names are UTF-8 inside: libarchive then stores them in pax headers as they are, instead of
    // marking every non-ASCII name as binary (which GNU tar warns about); a Windows console shows
    // what we print as UTF-8. Arguments too: Windows' ANSI argv cannot hold every file name.
    azl::setup_utf8_console();
    const std::vector<std::string> args = azl::utf8_arguments(argc, argv);
    std::vector<const char*> arg_pointers;
    arg_pointers.reserve(args.size());
    for (const std::string& arg : args)
    {
        arg_pointers.push_back(arg.c_str());
    }
    azl::app::Context ctx;
    CLI::App app{"azurelinux — build, install and run Azure Linux for WSL", "azurelinux"};
    app.set_version_flag("--version", std::string("azurelinux ") + AZL_VERSION);
    app.require_subcommand(0, 1); // none: install if needed and open a shell (cmd_default.cpp)
    app.fallthrough();
    app.add_flag("-v,--verbose", ctx.verbose, "More output on stderr (-vv for debug)");
    app.add_flag("-q,--quiet", ctx.quiet, "Only errors on stderr; no progress bars");
    app.add_option("--log-file", ctx.log_file, "Append a debug-level log to this file");
    app.parse_complete_callback(
        [&ctx]
        {
            azl::setup_logging(
                {.verbosity = azl::verbosity_from_flags(ctx.verbose, ctx.quiet),
                 .log_file = ctx.log_file.empty() ? std::filesystem::path()
                                                  : azl::launcher::path_from_utf8(ctx.log_file)});
        });
    azl::app::add_default(app, ctx);
    azl::app::add_install(app, ctx);
    azl::app::add_setup(app, ctx);
    azl::app::add_run(app, ctx);
    azl::app::add_config(app, ctx);
    azl::app::add_get(app, ctx);
    azl::app::add_backup(app, ctx);
    azl::app::add_restore(app, ctx);
    azl::app::add_uninstall(app, ctx);
    azl::app::add_list(app, ctx);
    azl::app::add_terminate(app, ctx);
    azl::app::add_doctor(app, ctx);
    azl::app::add_seal(app, ctx);
    azl::app::add_relay(app, ctx);
    azl::app::add_sync(app, ctx);
    azl::app::add_dsc(app, ctx);
    azl::app::add_image(app, ctx);

    try
    {
        app.parse(static_cast<int>(arg_pointers.size()), arg_pointers.data());
        return ctx.exit_code;
    }
    catch (const CLI::ParseError& e)
    {
        return app.exit(e) == 0 ? 0 : static_cast<int>(ExitCode::usage);
    }
}

} // namespace

int main(int argc, char** argv)
{
    return azl::run_program("azurelinux", [&] { return run_cli(argc, argv); });
}
