#pragma once
// The folder a Microsoft Store / MSIX package of the distribution is made from: AppxManifest.xml,
// the launcher (azurelinux.exe) with its app execution alias, the logos at the sizes the Store asks
// for, and the image as install.tar.gz. Packing and signing it (makeappx, signtool) need Windows.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace azl::packaging
{

// What `image store-layout` needs.
struct StoreLayoutOptions
{
    std::filesystem::path output_dir;              // created; must not exist, or be empty
    std::filesystem::path image;                   // a gzip .wsl, copied as install.tar.gz
    std::optional<std::filesystem::path> launcher; // azurelinux.exe; absent: the layout says so
    std::string identity_name = "AzureLinux.WSL";  // Identity/@Name: 3-50 of [A-Za-z0-9.-]
    std::string publisher = "CN=Azure Linux";      // the signing certificate's subject
    std::string publisher_display_name = "Azure Linux";
    std::string display_name = "Azure Linux";
    std::string description = "Azure Linux for the Windows Subsystem for Linux";
    std::string version = "1.0.0.0";  // four numbers 0-65535
    std::string architecture = "x64"; // x64 or arm64
    std::string alias = "azurelinux.exe";
};

// What was written.
struct StoreLayoutResult
{
    std::filesystem::path dir;
    std::vector<std::string> files; // relative to dir, sorted
    bool launcher_included = false;
};

// The AppxManifest.xml text; throws UserError for a malformed field, naming its option.
std::string render_appx_manifest(const StoreLayoutOptions& options);

// Writes the layout into a staging folder beside `output_dir` and renames it into place: all or
// nothing. Throws UserError naming the problem (an image that is not gzip, an existing folder).
StoreLayoutResult write_store_layout(const StoreLayoutOptions& options);

} // namespace azl::packaging
