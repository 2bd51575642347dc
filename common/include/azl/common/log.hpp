#pragma once

#include <spdlog/logger.h>

#include <filesystem>
#include <memory>
#include <string>

namespace azl
{

// How much the program says on stderr.
enum class Verbosity
{
    quiet,   // errors only
    normal,  // warnings and errors
    verbose, // + info
    debug,   // + debug (-vv)
};

// The logging choices an executable makes once at start-up.
struct LogOptions
{
    Verbosity verbosity = Verbosity::normal;
    std::filesystem::path log_file; // empty: none; else everything at debug level is appended there
};

// Configures the sinks of every named logger: human-readable lines on stderr, optionally a file.
// SPDLOG_LEVEL, when set, overrides the stderr level. Only executables call this.
void setup_logging(const LogOptions& options);

// The logger of a library or component ("rootfs", "oobe", …); created on first use.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

} // namespace azl
