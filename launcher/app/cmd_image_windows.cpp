#include "context.hpp"

namespace azl::app
{

// On Windows the image group has only `manifest` (JSON and SHA-256): building, checking, inspecting
// and extracting images need the image engine (libarchive, OpenSSL, zstd), which the Windows
// launcher does not carry (STYLE.md, "Platform code"). Those run on Linux or inside WSL.
void add_image(CLI::App& app, Context& ctx)
{
    CLI::App* image = app.add_subcommand(
        "image", "Write install manifests (the other image commands: Linux/WSL)");
    image->require_subcommand(1);
    image->footer(
        R"(On Windows: `image manifest`. Building, checking, inspecting and extracting images and
the Store layout need the image engine, which runs on Linux: use the same commands of the Linux
azurelinux, or inside WSL (e.g. `wsl -d AzureLinux -- azurelinux image build …`).

Examples:
  azurelinux image manifest --flavor AzureLinux --name AzureLinux-4.0 ^
      --friendly-name "Azure Linux 4.0" --amd64 URL=AzureLinux.wsl --default -o DistributionInfo.json

`azurelinux image manifest --help` has more.)");
    add_image_manifest(*image, ctx);
}

} // namespace azl::app
