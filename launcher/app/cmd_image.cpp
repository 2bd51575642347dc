#include "context.hpp"

namespace azl::app
{

void add_image(CLI::App& app, Context& ctx)
{
    CLI::App* image = app.add_subcommand(
        "image",
        "Build, check, inspect and extract WSL images (.wsl); write install manifests and Store "
        "layouts");
    image->require_subcommand(1);
    // Its own footer: a subcommand inherits its parent's, which shows the top level's examples.
    image->footer(
        R"(Examples:
  azurelinux image build --from rootfs.tar.gz -o AzureLinux.wsl
  azurelinux image check AzureLinux.wsl
  azurelinux image inspect AzureLinux.wsl --json
  azurelinux image extract AzureLinux.wsl rootfs/
  azurelinux image manifest --flavor AzureLinux --name AzureLinux-4.0 \
      --friendly-name "Azure Linux 4.0" --amd64 URL=AzureLinux.wsl --default -o DistributionInfo.json
  azurelinux image store-layout --image AzureLinux.wsl --launcher azurelinux.exe \
      --publisher "CN=Contoso" --version 4.0.0.0 -o store/

Each image command has --help with more examples.)");
    add_image_build(*image, ctx);
    add_image_check(*image, ctx);
    add_image_inspect(*image, ctx);
    add_image_extract(*image, ctx);
    add_image_manifest(*image, ctx);
    add_image_store_layout(*image, ctx);
}

} // namespace azl::app
