#include "context.hpp"

#include <azl/common/error.hpp>
#include <azl/rootfs/check.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace azl::app
{

namespace
{

struct CheckArgs
{
    std::string input;
    std::optional<std::string> arch;
    std::uint32_t default_uid = 1000;
    bool json = false;
    bool list_rules = false;
};

void print_rules(bool json)
{
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& r : rootfs::check_rules())
    {
        if (json)
        {
            rules.push_back(
                {{"id", r.id},
                 {"severity", rootfs::severity_name(r.severity)},
                 {"summary", r.summary}});
        }
        else
        {
            fmt::print("{:<24} {:<8} {}\n", r.id, rootfs::severity_name(r.severity), r.summary);
        }
    }
    if (json)
    {
        fmt::print("{}\n", rules.dump(2));
    }
}

void run_check(const CheckArgs& args, Context& ctx)
{
    if (args.list_rules)
    {
        print_rules(args.json);
        return;
    }
    if (args.input.empty())
    {
        throw UserError(
            "image check needs an image file or directory",
            "run: azurelinux image check FILE",
            ExitCode::usage);
    }
    rootfs::CheckOptions options;
    options.arch = args.arch;
    options.default_uid = args.default_uid;
    const rootfs::CheckReport report = rootfs::check_image(args.input, options);
    std::size_t errors = 0;
    std::size_t warnings = 0;
    for (const auto& f : report.findings)
    {
        errors += f.severity == rootfs::Severity::error ? 1 : 0;
        warnings += f.severity == rootfs::Severity::warning ? 1 : 0;
    }
    if (args.json)
    {
        nlohmann::json findings = nlohmann::json::array();
        for (const auto& f : report.findings)
        {
            findings.push_back(
                {{"rule", f.rule},
                 {"severity", rootfs::severity_name(f.severity)},
                 {"path", f.path},
                 {"message", f.message},
                 {"hint", f.hint}});
        }
        const nlohmann::json j = {
            {"input", report.input.string()},
            {"format", report.format},
            {"compression", report.compression},
            {"entries", report.entries},
            {"errors", errors},
            {"warnings", warnings},
            {"ok", !report.has_errors()},
            {"findings", findings}};
        fmt::print("{}\n", j.dump(2));
    }
    else
    {
        for (const auto& f : report.findings)
        {
            // Messages name the image path themselves; `path` is for --json consumers.
            fmt::print("{} [{}]: {}\n", rootfs::severity_name(f.severity), f.rule, f.message);
            if (!f.hint.empty())
            {
                fmt::print("  fix: {}\n", f.hint);
            }
        }
        fmt::print(
            "{}: {} error(s), {} warning(s) in {} entries\n",
            report.input.string(),
            errors,
            warnings,
            report.entries);
    }
    ctx.exit_code = report.has_errors() ? static_cast<int>(ExitCode::user_error) : 0;
}

} // namespace

void add_image_check(CLI::App& image, Context& ctx)
{
    auto args = std::make_shared<CheckArgs>();
    CLI::App* cmd =
        image.add_subcommand("check", "Check an image against every rule WSL applies, and ours");
    cmd->footer(
        R"(Exit status: 0 no errors (warnings allowed), 1 errors found, 2 the input is not a usable image.

Examples:
  azurelinux image check AzureLinux.wsl
  azurelinux image check ./rootfs-dir --json
  azurelinux image check --list-rules)");
    cmd->add_option(
        "input", args->input, "A .wsl/tar file (any compression) or an unpacked root directory");
    cmd->add_option(
        "--arch",
        args->arch,
        "Expected architecture: x86_64 or aarch64 (default: that of /bin/sh)");
    cmd->add_option("--default-uid", args->default_uid, "The uid first-run setup creates")
        ->capture_default_str();
    cmd->add_flag("--json", args->json, "Print the findings as JSON on stdout");
    cmd->add_flag("--list-rules", args->list_rules, "List the rules and exit");
    cmd->callback([args, &ctx] { run_check(*args, ctx); });
}

} // namespace azl::app
