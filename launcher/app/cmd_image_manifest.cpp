#include "context.hpp"
#include "file_digest.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/packaging/manifest.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

namespace azl::app
{

namespace
{

struct ManifestArgs
{
    std::string flavor;
    std::string name;
    std::string friendly_name;
    std::string amd64;
    std::string arm64;
    bool is_default = false;
    std::string merge;
    std::string output;
    bool json = false;
};

// The image's SHA-256, with a hint that fits this command when the file is wrong.
std::string image_sha256(const std::filesystem::path& file)
{
    try
    {
        return file_sha256(file);
    }
    catch (const UserError& e)
    {
        throw UserError(e.what(), "give the path of the .wsl image the URL serves");
    }
}

std::optional<packaging::Download> download(const std::string& spec, std::string_view option)
{
    if (spec.empty())
    {
        return std::nullopt;
    }
    auto [url, file] = packaging::parse_url_and_file(spec, option);
    return packaging::Download{std::move(url), image_sha256(file)};
}

nlohmann::json download_json(const std::optional<packaging::Download>& d)
{
    if (!d)
    {
        return nullptr;
    }
    return {{"url", d->url}, {"sha256", d->sha256}};
}

void run_manifest(const ManifestArgs& args)
{
    packaging::Manifest manifest;
    if (!args.merge.empty())
    {
        manifest = packaging::parse_manifest(
            read_file(launcher::path_from_utf8(args.merge), 16U << 20U), args.merge);
    }
    packaging::ManifestEntry entry;
    entry.name = args.name;
    entry.friendly_name = args.friendly_name;
    entry.is_default = args.is_default;
    entry.amd64 = download(args.amd64, "--amd64");
    entry.arm64 = download(args.arm64, "--arm64");
    const packaging::MergeAction action =
        packaging::merge_entry(manifest, args.flavor, entry, args.output);
    write_file_atomic(
        launcher::path_from_utf8(args.output), packaging::serialize_manifest(manifest));

    const auto& entries = manifest.flavors.at(args.flavor);
    const auto written = std::find_if(
        entries.begin(), entries.end(), [&](const auto& e) { return e.name == args.name; });
    const bool replaced = action == packaging::MergeAction::replaced;
    if (args.json)
    {
        const nlohmann::json j = {
            {"path", args.output},
            {"flavor", args.flavor},
            {"name", written->name},
            {"default", written->is_default},
            {"replaced", replaced},
            {"amd64", download_json(written->amd64)},
            {"arm64", download_json(written->arm64)},
        };
        fmt::print("{}\n", j.dump(2));
        return;
    }
    fmt::print(
        "{} {} in flavor {}{} of {}\n",
        replaced ? "Replaced" : "Added",
        written->name,
        args.flavor,
        written->is_default ? " (default)" : "",
        args.output);
    if (written->amd64)
    {
        fmt::print("  amd64 {}  SHA-256 {}\n", written->amd64->url, written->amd64->sha256);
    }
    if (written->arm64)
    {
        fmt::print("  arm64 {}  SHA-256 {}\n", written->arm64->url, written->arm64->sha256);
    }
}

} // namespace

void add_image_manifest(CLI::App& image, Context& /*ctx*/)
{
    auto args = std::make_shared<ManifestArgs>();
    CLI::App* cmd = image.add_subcommand(
        "manifest", "Write or update the DistributionInfo.json manifest `wsl --install` reads");
    cmd->footer(
        R"TXT(Each --amd64/--arm64 takes URL=FILE (split at the first '='): the URL WSL downloads the
.wsl image from (https://... or file:///C:/...) and the local copy of that image, whose SHA-256 goes
into the manifest. With --merge, the entry is added to an existing manifest, or replaces the entry
of the same --name; other flavors, entries and top-level keys are kept. --merge may name the -o file.

Each flavor has exactly one default entry (what `wsl --install FLAVOR` installs): --default is
refused when another entry of the flavor is already the default (set "Default": false on it first);
without --default the entry becomes the default only when its flavor has none.

Examples:
  azurelinux image manifest --flavor AzureLinux --name AzureLinux-4.0 \
      --friendly-name "Azure Linux 4.0" --default \
      --amd64 https://example.com/AzureLinux-4.0-amd64.wsl=out/AzureLinux-amd64.wsl \
      --arm64 https://example.com/AzureLinux-4.0-arm64.wsl=out/AzureLinux-arm64.wsl \
      -o DistributionInfo.json
  azurelinux image manifest --flavor AzureLinux --name AzureLinux-4.1-preview \
      --friendly-name "Azure Linux 4.1 (preview)" \
      --amd64 file:///C:/images/AzureLinux-4.1.wsl=AzureLinux-4.1.wsl \
      --merge DistributionInfo.json -o DistributionInfo.json)TXT");
    cmd->add_option("--flavor", args->flavor, "Flavor key, e.g. AzureLinux")->required();
    cmd->add_option("--name", args->name, "Entry name; starts with the flavor, e.g. AzureLinux-4.0")
        ->required();
    cmd->add_option(
           "--friendly-name", args->friendly_name, "Human-readable name, e.g. \"Azure Linux 4.0\"")
        ->required();
    cmd->add_option("--amd64", args->amd64, "URL=FILE of the x86_64 image");
    cmd->add_option("--arm64", args->arm64, "URL=FILE of the aarch64 image");
    cmd->add_flag("--default", args->is_default, "Make this entry its flavor's default");
    cmd->add_option("--merge", args->merge, "Existing manifest to add the entry to");
    cmd->add_option("-o,--output", args->output, "Manifest to write, e.g. DistributionInfo.json")
        ->required();
    cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
    cmd->callback(
        [args]
        {
            if (args->amd64.empty() && args->arm64.empty())
            {
                throw UserError(
                    "image manifest: give --amd64 URL=FILE, --arm64 URL=FILE or both",
                    "",
                    ExitCode::usage);
            }
            run_manifest(*args);
        });
}

} // namespace azl::app
