#pragma once
// State shared by the subcommands of one run: the global options, filled in by CLI11 before any
// subcommand callback runs.

#include <azl/common/log.hpp>
#include <azl/common/progress.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>

namespace azl::app
{

struct Context
{
    int verbose = 0;    // -v count
    bool quiet = false; // --quiet
    std::filesystem::path log_file;
    int exit_code = 0; // set by a subcommand that finishes without throwing (e.g. check: 1)

    // Whether progress bars may be drawn for this run.
    [[nodiscard]] ProgressMode progress(bool json) const
    {
        return (quiet || json) ? ProgressMode::off : ProgressMode::auto_detect;
    }
};

// `azurelinux image …`: adds the image command group and its subcommands.
void add_image(CLI::App& app, Context& ctx);
void add_image_build(CLI::App& image, Context& ctx);
void add_image_check(CLI::App& image, Context& ctx);
void add_image_inspect(CLI::App& image, Context& ctx);
void add_image_extract(CLI::App& image, Context& ctx);
void add_image_manifest(CLI::App& image, Context& ctx);

} // namespace azl::app
