#include "context.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/common/program.hpp>
#include <azl/packaging/wsl_image.hpp>
#include <azl/rootfs/build.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdlib>
#include <filesystem>

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
    // WSL packaging
    bool wsl_files = false;
    bool no_wsl_files = false;
    std::string default_name = std::string(packaging::kDefaultName);
    std::optional<std::string> oobe;
    std::optional<std::string> bridge;
    std::optional<std::string> answers;
    bool no_guest_tools = false;
    bool no_bridge = false;
    bool keep_xattrs = false;
    bool mask_units = false;
};

packaging::WslImageOptions wsl_options(const BuildArgs& args)
{
    packaging::WslImageOptions o;
    o.wsl_files = args.wsl_files      ? packaging::WslFiles::on
                  : args.no_wsl_files ? packaging::WslFiles::off
                                      : packaging::WslFiles::auto_detect;
    o.default_name = args.default_name;
    // The default guest programs are built (and installed) beside the running program.
    o.program_dir = azl::executable_path().parent_path();
    o.oobe = args.oobe;
    o.bridge = args.bridge;
    o.answers = args.answers;
    o.guest_tools =
        args.no_guest_tools ? packaging::GuestTools::from_image : packaging::GuestTools::add;
    o.bridge_files =
        args.no_bridge ? packaging::BridgeFiles::leave_out : packaging::BridgeFiles::include;
    o.xattrs = args.keep_xattrs ? packaging::Wsl1Xattrs::keep : packaging::Wsl1Xattrs::strip;
    o.units = args.mask_units ? packaging::HostileUnits::mask : packaging::HostileUnits::warn;
    return o;
}

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
    packaging::WslImageOptions wsl = wsl_options(args);
    rootfs::BuildOptions& options = wsl.build;
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

    const packaging::WslImageResult built = packaging::build_wsl_image(wsl);
    const rootfs::BuildResult& result = built.build;
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
            {"wsl_files", built.wsl_files},
            {"added", built.added},
            {"masked_units", built.masked_units},
            {"systemd", built.systemd},
            {"stripped_xattrs", built.stripped_xattrs},
            {"arch", built.arch ? nlohmann::json(*built.arch) : nlohmann::json(nullptr)},
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
    if (built.wsl_files)
    {
        fmt::print(
            "WSL files: {}{}\n",
            fmt::join(built.added, ", "),
            built.wsl_conf_added ? (built.systemd ? " (wsl.conf boots systemd)" : "")
                                 : " (kept the image's own /etc/wsl.conf)");
        if (!built.masked_units.empty())
        {
            fmt::print("Masked units: {}\n", fmt::join(built.masked_units, ", "));
        }
        if (built.stripped_xattrs > 0)
        {
            fmt::print(
                "Removed {} security.selinux/ima/evm attribute(s) WSL 1 cannot store\n",
                built.stripped_xattrs);
        }
    }
}

void add_wsl_options(CLI::App& cmd, BuildArgs& args)
{
    const char* group = "WSL packaging (on by default for a *.wsl output)";
    auto* on = cmd.add_flag("--wsl-files", args.wsl_files, "Add the WSL files to any output")
                   ->group(group);
    cmd.add_flag("--no-wsl-files", args.no_wsl_files, "Write the tree as flattened, nothing added")
        ->group(group)
        ->excludes(on);
    cmd.add_option(
           "--default-name",
           args.default_name,
           "Name WSL registers with `wsl --install --from-file` ([oobe] defaultName)")
        ->type_name("NAME")
        ->group(group)
        ->capture_default_str();
    cmd.add_option(
           "--oobe",
           args.oobe,
           "First-run setup program for /usr/lib/wsl/azurelinux-oobe (default: azurelinux-oobe "
           "beside this program)")
        ->type_name("PATH")
        ->group(group);
    cmd.add_option(
           "--bridge",
           args.bridge,
           "Azure bridge program for /usr/bin/azurelinux-bridge (default: azurelinux-bridge beside "
           "this program)")
        ->type_name("PATH")
        ->group(group);
    cmd.add_flag(
           "--no-guest-tools",
           args.no_guest_tools,
           "Do not add the OOBE and bridge programs: the image's packages provide them")
        ->group(group);
    cmd.add_flag("--no-bridge", args.no_bridge, "Leave the Azure bridge out")->group(group);
    cmd.add_option(
           "--answers",
           args.answers,
           "First-run answers to bake in as /etc/azurelinux/oobe.json (root, 0600)")
        ->type_name("FILE")
        ->group(group);
    cmd.add_flag(
           "--keep-xattrs",
           args.keep_xattrs,
           "Keep security.selinux/ima/evm attributes (WSL 1 cannot store them)")
        ->group(group);
    cmd.add_flag(
           "--mask-units",
           args.mask_units,
           "Mask systemd units that break under WSL (default: warn about enabled ones)")
        ->group(group);
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
      --add ./wsl.conf:/etc/wsl.conf:0644 -o AzureLinux.wsl --json
  azurelinux image build --from rootfs/ --mask-units --default-name AzureLinux-4.0 \
      --oobe out/azurelinux-oobe --bridge out/azurelinux-bridge -o AzureLinux.wsl

A *.wsl output gets what WSL's modern format expects: /etc/wsl-distribution.conf, the first-run
setup program, the Azure bridge, the icon, the Windows Terminal profile template and, when the image
has none, /etc/wsl.conf; security.selinux/ima/evm attributes are removed. --add/--add-dir win over
these files. --no-wsl-files writes the tree as it is.)");
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
    add_wsl_options(*cmd, *args);
    cmd->callback([args, &ctx] { run_build(*args, ctx); });
}

} // namespace azl::app
