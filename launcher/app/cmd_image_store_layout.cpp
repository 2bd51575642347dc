#include "context.hpp"

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/packaging/store_layout.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace azl::app
{

namespace
{

struct StoreLayoutArgs
{
    packaging::StoreLayoutOptions options;
    std::string output;
    std::string image;
    std::optional<std::string> launcher;
    bool json = false;
};

void run_store_layout(StoreLayoutArgs& args)
{
    args.options.output_dir = args.output;
    args.options.image = args.image;
    if (args.launcher)
    {
        args.options.launcher = *args.launcher;
    }
    const packaging::StoreLayoutResult result = packaging::write_store_layout(args.options);
    const std::string missing = fmt::format(
        "no launcher in {}: the package's application is azurelinux.exe; copy the Windows build "
        "there (or pass --launcher PATH) before makeappx",
        result.dir.string());
    if (args.json)
    {
        const nlohmann::json j = {
            {"path", result.dir.string()},
            {"files", result.files},
            {"launcher", result.launcher_included},
        };
        fmt::print("{}\n", j.dump(2));
    }
    else
    {
        fmt::print("Wrote {}: {}\n", result.dir.string(), fmt::join(result.files, ", "));
        fmt::print(
            "Next, on Windows: makeappx pack /d {} /p AzureLinux.msix, then signtool sign "
            "(docs/store.md)\n",
            result.dir.string());
    }
    if (!result.launcher_included)
    {
        logger("image")->warn("{}", missing);
    }
}

} // namespace

void add_image_store_layout(CLI::App& image, Context& /*ctx*/)
{
    auto args = std::make_shared<StoreLayoutArgs>();
    CLI::App* cmd = image.add_subcommand(
        "store-layout", "Write the folder a Microsoft Store / MSIX package is made from");
    cmd->footer(
        R"(The folder holds AppxManifest.xml (the azurelinux.exe application with its app execution
alias, full trust), the logos at the sizes the Store asks for, the launcher (azurelinux.exe) and the
image as install.tar.gz. Packing and signing it needs Windows tools (makeappx, signtool): see
docs/store.md. The folder is written in full or not at all.

Example:
  azurelinux image store-layout --image AzureLinux.wsl --launcher out/azurelinux.exe \
      --publisher "CN=Contoso" --version 4.0.0.0 -o store/)");
    cmd->add_option("-o,--output", args->output, "Folder to create (new or empty)")->required();
    cmd->add_option("--image", args->image, "The gzip .wsl to ship as install.tar.gz")->required();
    cmd->add_option("--launcher", args->launcher, "The Windows launcher, azurelinux.exe");
    auto& o = args->options;
    cmd->add_option("--identity-name", o.identity_name, "Package identity name")
        ->capture_default_str();
    cmd->add_option("--publisher", o.publisher, "Publisher: the signing certificate's subject")
        ->capture_default_str();
    cmd->add_option("--publisher-display-name", o.publisher_display_name, "Publisher as shown")
        ->capture_default_str();
    cmd->add_option("--display-name", o.display_name, "Application name as shown")
        ->capture_default_str();
    cmd->add_option("--description", o.description, "Application description")
        ->capture_default_str();
    cmd->add_option("--version", o.version, "Package version, four numbers")->capture_default_str();
    cmd->add_option("--arch", o.architecture, "x64 or arm64")->capture_default_str();
    cmd->add_option("--alias", o.alias, "Command-line alias of the launcher")
        ->capture_default_str();
    cmd->add_flag("--json", args->json, "Print a JSON summary on stdout");
    cmd->callback([args] { run_store_layout(*args); });
}

} // namespace azl::app
