#include "context.hpp"

#include <azl/common/fs.hpp>
#include <azl/rootfs/extract.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace azl::app
{

namespace
{

struct ExtractArgs
{
    std::string input;
    std::string dest;
    std::optional<std::uint64_t> max_bytes;
    bool json = false;
};

void run_extract(const ExtractArgs& args, const Context& ctx)
{
    rootfs::ExtractOptions options;
    options.progress = ctx.progress(args.json);
    if (args.max_bytes)
    {
        options.limits.max_total_bytes = *args.max_bytes;
    }
    const rootfs::ExtractResult r = rootfs::extract_archive(args.input, args.dest, options);
    if (args.json)
    {
        const nlohmann::json j = {
            {"input", args.input}, {"dest", args.dest}, {"entries", r.entries}, {"bytes", r.bytes}};
        fmt::print("{}\n", j.dump(2));
        return;
    }
    fmt::print("Extracted {} entries ({}) into {}\n", r.entries, human_bytes(r.bytes), args.dest);
}

} // namespace

void add_image_extract(CLI::App& image, Context& ctx)
{
    auto args = std::make_shared<ExtractArgs>();
    CLI::App* cmd = image.add_subcommand("extract", "Safely unpack an image into a new directory");
    cmd->footer(
        R"(The directory must not exist. Entries are unpacked into a staging directory beside it that is
renamed into place only when everything succeeded. Absolute or '..' names, writes through symlinks,
hard links out of the tree, duplicates and entries beyond the size limits are refused.

Examples:
  azurelinux image extract AzureLinux.wsl rootfs/
  azurelinux image extract suspicious.tar.gz /tmp/look --max-bytes 2000000000)");
    cmd->add_option("input", args->input, "A .wsl or tar file (any compression)")->required();
    cmd->add_option("dest", args->dest, "The directory to create")->required();
    cmd->add_option(
        "--max-bytes", args->max_bytes, "Refuse more content than this (default: free space)");
    cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
    cmd->callback([args, &ctx] { run_extract(*args, ctx); });
}

} // namespace azl::app
