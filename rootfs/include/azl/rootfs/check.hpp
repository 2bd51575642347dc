#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace azl::rootfs
{

// How bad a finding is: errors make WSL refuse or break the distribution; warnings are advice.
enum class Severity
{
    error,
    warning,
    info,
};

// "error", "warning", "info".
std::string_view severity_name(Severity s);

// One rule of `image check`.
struct RuleInfo
{
    std::string_view id; // stable, e.g. "passwd-root"
    Severity severity;
    std::string_view summary; // what the rule demands
};

// One violation found.
struct Finding
{
    std::string rule;
    Severity severity = Severity::error;
    std::string path;    // the image path concerned, or empty
    std::string message; // what is wrong
    std::string hint;    // how to fix it
};

// Options of a check.
struct CheckOptions
{
    std::optional<std::string>
        arch; // expected ELF machine ("x86_64", "aarch64"); default: from /bin/sh
    std::uint32_t default_uid = 1000;                    // the uid the first-run setup will create
    std::uint64_t max_uncompressed_bytes = 16ULL << 30U; // larger images get a warning
};

// The result of a check.
struct CheckReport
{
    std::filesystem::path input;
    std::string format; // "tar", "directory"
    // "gzip", "xz", "zstd", "bzip2", "none", or libarchive's name of any other filter it read
    // (lz4, lzip, …): a name, not the writer's Compression, because a check must name what WSL
    // would be given, including filters we never write.
    std::string compression;
    std::uint64_t entries = 0;
    std::vector<Finding> findings; // in rule order, then path order

    // Whether any finding is an error.
    [[nodiscard]] bool has_errors() const;
};

// Every rule, in the order checks run.
std::span<const RuleInfo> check_rules();

// Applies every rule to an image file (.wsl / tar, any compression) or an unpacked root directory.
// Throws UserError with ExitCode::usage when the input cannot be read as an image at all.
CheckReport check_image(const std::filesystem::path& input, const CheckOptions& options = {});

} // namespace azl::rootfs
