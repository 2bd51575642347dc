#include "context.hpp"

#include <azl/common/fs.hpp>
#include <azl/rootfs/inspect.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace azl::app
{

namespace
{

struct InspectArgs
{
    std::string input;
    std::string platform = "linux/amd64";
    bool json = false;
};

void run_inspect(const InspectArgs& args)
{
    const rootfs::InspectReport r = rootfs::inspect_image(args.input, args.platform);
    if (args.json)
    {
        fmt::print("{}\n", rootfs::to_json(r).dump(2));
        return;
    }
    fmt::print("{}\n", r.input.string());
    fmt::print(
        "  format:       {}{}\n",
        r.format,
        r.layers > 1 ? fmt::format(" ({} layers)", r.layers) : "");
    fmt::print("  compression:  {}\n", r.compression);
    if (r.file_bytes > 0)
    {
        fmt::print("  file size:    {}\n", human_bytes(r.file_bytes));
    }
    fmt::print(
        "  entries:      {} ({} files, {} directories, {} symlinks, {} hard links, {} other)\n",
        r.entries,
        r.files,
        r.directories,
        r.symlinks,
        r.hardlinks,
        r.other);
    fmt::print("  content:      {}\n", human_bytes(r.content_bytes));
    const auto field = [&r](const char* key)
    {
        const auto it = r.os_release.find(key);
        return it == r.os_release.end() ? std::string("-") : it->second;
    };
    fmt::print(
        "  os-release:   {} (ID={}, VERSION_ID={})\n",
        field("PRETTY_NAME"),
        field("ID"),
        field("VERSION_ID"));
    fmt::print(
        "  WSL files:    {}\n",
        r.wsl_files.empty() ? std::string("none")
                            : fmt::format("{}", fmt::join(r.wsl_files, ", ")));
}

} // namespace

void add_image_inspect(CLI::App& image, Context& /*ctx*/)
{
    auto args = std::make_shared<InspectArgs>();
    CLI::App* cmd = image.add_subcommand("inspect", "Summarize an image or root filesystem");
    cmd->footer(R"(Examples:
  azurelinux image inspect AzureLinux.wsl
  azurelinux image inspect oci-layout/ --json)");
    cmd->add_option("input", args->input, "Any source `image build` accepts")->required();
    cmd->add_option("--platform", args->platform, "os/arch[/variant] for multi-platform images")
        ->capture_default_str();
    cmd->add_flag("--json", args->json, "Print JSON on stdout");
    cmd->callback([args] { run_inspect(*args); });
}

} // namespace azl::app
