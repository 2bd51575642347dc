#pragma once
// State shared by the subcommands of one run: the global options, filled in by CLI11 before any
// subcommand callback runs.

#include <azl/common/log.hpp>
#include <azl/common/progress.hpp>
#include <azl/launcher/backend.hpp>
#include <azl/launcher/commands.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace azl::app
{

struct Context
{
    int verbose = 0;      // -v count
    bool quiet = false;   // --quiet
    std::string log_file; // UTF-8, as every argument (a path made from it would be ANSI on Windows)
    int exit_code = 0;    // set by a subcommand that finishes without throwing (e.g. check: 1)

    // Whether progress bars may be drawn for this run.
    [[nodiscard]] ProgressMode progress(bool json) const
    {
        return (quiet || json) ? ProgressMode::off : ProgressMode::auto_detect;
    }

    // The platform's backend, made on first use (the image commands never need one).
    launcher::Backend& backend();
    // What the lifecycle commands report through: the terminal, the launcher's folder, progress.
    launcher::CommandEnv command_env(bool json);

    std::unique_ptr<launcher::Backend> m_backend;
    std::unique_ptr<launcher::Console> m_console;
};

// `azurelinux image …`: adds the image command group and its subcommands.
void add_image(CLI::App& app, Context& ctx);
// The lifecycle commands (one file each) and `azurelinux` without a command (cmd_default.cpp).
void add_default(CLI::App& app, Context& ctx);
void add_install(CLI::App& app, Context& ctx);
void add_setup(CLI::App& app, Context& ctx);
void add_run(CLI::App& app, Context& ctx);
void add_config(CLI::App& app, Context& ctx);
void add_get(CLI::App& app, Context& ctx);
void add_backup(CLI::App& app, Context& ctx);
void add_restore(CLI::App& app, Context& ctx);
void add_uninstall(CLI::App& app, Context& ctx);
void add_list(CLI::App& app, Context& ctx);
void add_terminate(CLI::App& app, Context& ctx);
void add_doctor(CLI::App& app, Context& ctx);
void add_seal(CLI::App& app, Context& ctx);
void add_relay(CLI::App& app, Context& ctx);
void add_sync(CLI::App& app, Context& ctx);
void add_dsc(CLI::App& app, Context& ctx);
// `--name NAME` (default AzureLinux), the option every lifecycle command has.
void add_name_option(CLI::App& cmd, std::string& name);

void add_image_build(CLI::App& image, Context& ctx);
void add_image_check(CLI::App& image, Context& ctx);
void add_image_inspect(CLI::App& image, Context& ctx);
void add_image_extract(CLI::App& image, Context& ctx);
void add_image_manifest(CLI::App& image, Context& ctx);
void add_image_store_layout(CLI::App& image, Context& ctx);

} // namespace azl::app
