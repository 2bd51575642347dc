#pragma once

#include <azl/integration/config.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>

namespace azl::bridge_app
{

// What the global options and the subcommands share.
struct Context
{
    int verbose = 0;
    bool quiet = false;
    std::filesystem::path log_file;
    int exit_code = 0;

    // The configuration, read on first use (after parsing, so --help never fails on a bad file).
    [[nodiscard]] const integration::BridgeConfig& config()
    {
        if (!loaded_config)
        {
            loaded_config = integration::load_config(integration::config_paths());
        }
        return *loaded_config;
    }

    std::optional<integration::BridgeConfig> loaded_config; // set by config()
};

// `serve`
void add_serve(CLI::App& app, Context& ctx);
// `env`
void add_env(CLI::App& app, Context& ctx);
// `token`
void add_token(CLI::App& app, Context& ctx);
// `status`
void add_status(CLI::App& app, Context& ctx);
// `sync`
void add_sync(CLI::App& app, Context& ctx);
// `az-login`
void add_az_login(CLI::App& app, Context& ctx);
// `ssh-agent`
void add_ssh_agent(CLI::App& app, Context& ctx);
// `gpg-agent`
void add_gpg_agent(CLI::App& app, Context& ctx);
// `git-credential`
void add_git_credential(CLI::App& app, Context& ctx);

} // namespace azl::bridge_app
