#include "context.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/rootfs/build.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdlib>

namespace azl::app
{

namespace
{

struct BuildArgs
{
    std::vector<std::string> from;
    std::string output;
    std::string platform = "linux/amd64";
    std::vector<std::string> add;
    std::vector<std::string> add_dir;
    std::vector<std::string> remove;
    std::string compression = "gzip";
    std::optional<int> level;
    unsigned threads = 0;
    std::optional<std::int64_t> source_date_epoch;
    bool json = false;
};

std::optional<std::int64_t> epoch_from_environment()
{
    const char* env = std::getenv("SOURCE_DATE_EPOCH");
    if (env == nullptr || *env == '\0')
    {
        return std::nullopt;
    }
    std::int64_t value = 0;
    const std::string_view text(env);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0)
    {
        throw UserError(
            fmt::format("SOURCE_DATE_EPOCH={} is not a number of seconds", text),
            "unset it or set it to e.g. $(git log -1 --format=%ct)");
    }
    return value;
}

void run_build(const BuildArgs& args, const Context& ctx)
{
    rootfs::BuildOptions options;
    for (const auto& src : args.from)
    {
        options.sources.emplace_back(src);
    }
    options.platform = args.platform;
    options.removes = args.remove;
    for (const auto& spec : args.add)
    {
        options.add_files.push_back(rootfs::parse_add_file(spec));
    }
    for (const auto& spec : args.add_dir)
    {
        options.add_dirs.push_back(rootfs::parse_add_dir(spec));
    }
    options.output = args.output;
    options.write.compression = rootfs::parse_compression(args.compression);
    options.write.level = args.level;
    options.write.threads = args.threads;
    options.write.source_date_epoch =
        args.source_date_epoch ? args.source_date_epoch : epoch_from_environment();
    options.progress = ctx.progress(args.json);

    const rootfs::BuildResult result = rootfs::build_image(options);
    for (const auto& w : result.warnings)
    {
        logger("image")->warn("{}", w);
    }
    const auto& a = result.archive;
    if (args.json)
    {
        const nlohmann::json j = {
            {"path", a.path.string()},
            {"bytes", a.bytes},
            {"sha256", a.sha256},
            {"entries", a.entries},
            {"uncompressed_bytes", a.uncompressed_bytes},
            {"checksum_file", result.checksum_file.string()},
            {"compression", std::string(rootfs::compression_name(options.write.compression))},
            {"warnings", result.warnings},
        };
        fmt::print("{}\n", j.dump(2));
        return;
    }
    fmt::print(
        "Wrote {} ({}, {} entries, {} uncompressed)\n",
        a.path.string(),
        human_bytes(a.bytes),
        a.entries,
        human_bytes(a.uncompressed_bytes));
    fmt::print("SHA-256 {}  (also in {})\n", a.sha256, result.checksum_file.string());
}

} // namespace

void add_image_build(CLI::App& image, Context& ctx)
{
    auto args = std::make_shared<BuildArgs>();
    CLI::App* cmd = image.add_subcommand("build", "Turn a root filesystem into a .wsl image");
    cmd->footer(
        R"(Sources are detected by content: a directory, a tar (plain, gzip, xz, zstd, bzip2), an OCI
image layout (directory or tar) or a `docker save` archive. Several --from are layered in order.

Examples:
  azurelinux image build --from rootfs.tar.gz -o AzureLinux.wsl
  azurelinux image build --from oci-layout/ --platform linux/arm64 -o AzureLinux-arm64.wsl
  azurelinux image build --from base.tar --from overlay/ --remove /etc/resolv.conf \
      --add ./wsl.conf:/etc/wsl.conf:0644 -o AzureLinux.wsl --json)");
    cmd->add_option("--from", args->from, "Source root filesystem (repeatable; later ones on top)")
        ->required();
    cmd->add_option("-o,--output", args->output, "Output file, e.g. AzureLinux.wsl")->required();
    cmd->add_option(
           "--platform", args->platform, "os/arch[/variant] to pick from multi-platform images")
        ->capture_default_str();
    cmd->add_option("--add", args->add, "Add a host file: SRC:DEST[:MODE] (repeatable)");
    cmd->add_option("--add-dir", args->add_dir, "Add a host directory tree: DIR:DEST (repeatable)");
    cmd->add_option("--remove", args->remove, "Remove PATH and everything below it (repeatable)");
    cmd->add_option("--compression", args->compression, "gzip (what WSL imports), xz, zstd or none")
        ->capture_default_str();
    cmd->add_option("--level", args->level, "Compression level (gzip 1-12, xz 0-9, zstd 1-19)");
    cmd->add_option("--threads", args->threads, "Compression threads (0: one per CPU)")
        ->capture_default_str();
    cmd->add_option(
        "--source-date-epoch",
        args->source_date_epoch,
        "Clamp timestamps to this time (default: $SOURCE_DATE_EPOCH)");
    cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
    cmd->callback([args, &ctx] { run_build(*args, ctx); });
}

} // namespace azl::app
