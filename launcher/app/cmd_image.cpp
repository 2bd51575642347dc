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
    add_image_build(*image, ctx);
    add_image_check(*image, ctx);
    add_image_inspect(*image, ctx);
    add_image_extract(*image, ctx);
    add_image_manifest(*image, ctx);
    add_image_store_layout(*image, ctx);
}

} // namespace azl::app
