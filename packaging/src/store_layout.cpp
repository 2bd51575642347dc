#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/packaging/assets.hpp>
#include <azl/packaging/store_layout.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fstream>

namespace azl::packaging
{

namespace fs = std::filesystem;

namespace
{

// A logo file of the layout and the square size it is rendered at.
struct Logo
{
    std::string_view file;
    unsigned size;
};

// The sizes the Store and the Start menu ask for (scale-100), plus the taskbar target sizes.
constexpr std::array<Logo, 10> kLogos = {{
    {"Assets/StoreLogo.png", 50},
    {"Assets/Square44x44Logo.png", 44},
    {"Assets/Square71x71Logo.png", 71},
    {"Assets/Square150x150Logo.png", 150},
    {"Assets/Square310x310Logo.png", 310},
    {"Assets/Square44x44Logo.targetsize-16.png", 16},
    {"Assets/Square44x44Logo.targetsize-24.png", 24},
    {"Assets/Square44x44Logo.targetsize-32.png", 32},
    {"Assets/Square44x44Logo.targetsize-48.png", 48},
    {"Assets/Square44x44Logo.targetsize-256.png", 256},
}};

std::string xml_escape(std::string_view text)
{
    std::string out;
    for (const char c : text)
    {
        switch (c)
        {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

[[noreturn]] void bad(std::string_view option, std::string_view value, std::string_view rule)
{
    throw UserError(fmt::format("{} '{}': {}", option, value, rule), "", ExitCode::usage);
}

void validate(const StoreLayoutOptions& o)
{
    const bool name_ok =
        o.identity_name.size() >= 3 && o.identity_name.size() <= 50
        && std::all_of(
            o.identity_name.begin(),
            o.identity_name.end(),
            [](char c)
            { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-'; });
    if (!name_ok)
    {
        bad("--identity-name", o.identity_name, "3 to 50 letters, digits, '.' or '-'");
    }
    if (!o.publisher.starts_with("CN="))
    {
        bad("--publisher", o.publisher, "a certificate subject such as CN=Contoso");
    }
    int parts = 0;
    std::string_view rest = o.version;
    bool version_ok = true;
    while (version_ok)
    {
        const std::size_t dot = std::min(rest.find('.'), rest.size());
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(rest.data(), rest.data() + dot, value);
        version_ok = dot > 0 && ec == std::errc() && end == rest.data() + dot && value <= 65535;
        ++parts;
        if (dot == rest.size())
        {
            break;
        }
        rest.remove_prefix(dot + 1);
    }
    if (!version_ok || parts != 4)
    {
        bad("--version", o.version, "four numbers 0-65535, e.g. 1.0.0.0");
    }
    if (o.architecture != "x64" && o.architecture != "arm64")
    {
        bad("--arch", o.architecture, "x64 or arm64");
    }
    if (!o.alias.ends_with(".exe") || o.alias.find_first_of("\\/:*?\"<>|") != std::string::npos)
    {
        bad("--alias", o.alias, "a file name ending in .exe");
    }
    for (const std::string* text : {&o.display_name, &o.publisher_display_name, &o.description})
    {
        if (text->empty() || text->size() > 256)
        {
            bad("display text", *text, "1 to 256 characters");
        }
    }
}

void check_gzip(const fs::path& image)
{
    std::ifstream in(image, std::ios::binary);
    std::array<char, 2> magic{};
    in.read(magic.data(), magic.size());
    if (!in)
    {
        throw UserError(
            fmt::format("--image {}: cannot read it", image.string()),
            "give the .wsl built by azurelinux image build");
    }
    if (static_cast<unsigned char>(magic[0]) != 0x1f
        || static_cast<unsigned char>(magic[1]) != 0x8b)
    {
        throw UserError(
            fmt::format(
                "--image {}: not gzip-compressed, and install.tar.gz must be", image.string()),
            "build it with --compression gzip (the default)");
    }
}

void copy_into(const fs::path& from, const fs::path& to, std::string_view option)
{
    std::error_code ec;
    fs::copy_file(from, to, ec);
    if (ec)
    {
        throw UserError(
            fmt::format("{} {}: cannot copy it: {}", option, from.string(), ec.message()));
    }
}

} // namespace

std::string render_appx_manifest(const StoreLayoutOptions& o)
{
    validate(o);
    const std::string exe = "azurelinux.exe";
    return fmt::format(
        R"(<?xml version="1.0" encoding="utf-8"?>
<!-- Written by azurelinux image store-layout. Pack and sign this folder on Windows:
     makeappx pack /d DIR /p AzureLinux.msix, then signtool sign (see docs/store.md). -->
<Package
  xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10"
  xmlns:uap="http://schemas.microsoft.com/appx/manifest/uap/windows10"
  xmlns:uap3="http://schemas.microsoft.com/appx/manifest/uap/windows10/3"
  xmlns:desktop="http://schemas.microsoft.com/appx/manifest/desktop/windows10"
  xmlns:rescap="http://schemas.microsoft.com/appx/manifest/foundation/windows10/restrictedcapabilities"
  IgnorableNamespaces="uap uap3 desktop rescap">
  <Identity Name="{name}" Publisher="{publisher}" Version="{version}" ProcessorArchitecture="{arch}" />
  <Properties>
    <DisplayName>{display}</DisplayName>
    <PublisherDisplayName>{publisher_display}</PublisherDisplayName>
    <Logo>Assets\StoreLogo.png</Logo>
  </Properties>
  <Dependencies>
    <TargetDeviceFamily Name="Windows.Desktop" MinVersion="10.0.16215.0" MaxVersionTested="10.0.26100.0" />
  </Dependencies>
  <Resources>
    <Resource Language="en-us" />
  </Resources>
  <Capabilities>
    <rescap:Capability Name="runFullTrust" />
  </Capabilities>
  <Applications>
    <Application Id="AzureLinux" Executable="{exe}" EntryPoint="Windows.FullTrustApplication">
      <uap:VisualElements DisplayName="{display}" Description="{description}" BackgroundColor="transparent" Square150x150Logo="Assets\Square150x150Logo.png" Square44x44Logo="Assets\Square44x44Logo.png">
        <uap:DefaultTile Square71x71Logo="Assets\Square71x71Logo.png" Square310x310Logo="Assets\Square310x310Logo.png" ShortName="{display}" />
      </uap:VisualElements>
      <Extensions>
        <uap3:Extension Category="windows.appExecutionAlias" Executable="{exe}" EntryPoint="Windows.FullTrustApplication">
          <uap3:AppExecutionAlias>
            <desktop:ExecutionAlias Alias="{alias}" />
          </uap3:AppExecutionAlias>
        </uap3:Extension>
      </Extensions>
    </Application>
  </Applications>
</Package>
)",
        fmt::arg("name", xml_escape(o.identity_name)),
        fmt::arg("publisher", xml_escape(o.publisher)),
        fmt::arg("version", xml_escape(o.version)),
        fmt::arg("arch", xml_escape(o.architecture)),
        fmt::arg("display", xml_escape(o.display_name)),
        fmt::arg("publisher_display", xml_escape(o.publisher_display_name)),
        fmt::arg("description", xml_escape(o.description)),
        fmt::arg("exe", exe),
        fmt::arg("alias", xml_escape(o.alias)));
}

StoreLayoutResult write_store_layout(const StoreLayoutOptions& o)
{
    const std::string manifest = render_appx_manifest(o);
    const fs::path dir = o.output_dir;
    std::error_code ec;
    if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
    {
        throw UserError(
            fmt::format("{} exists and is not an empty folder", dir.string()),
            "choose a new folder for the layout, or remove the old one");
    }
    check_gzip(o.image);
    if (o.launcher && !fs::is_regular_file(*o.launcher, ec))
    {
        throw UserError(
            fmt::format("--launcher {}: no such file", o.launcher->string()),
            "give the Windows build of the launcher, azurelinux.exe");
    }
    fs::path parent = dir.parent_path();
    if (parent.empty())
    {
        parent = ".";
    }
    TempDir staging(".azl-store-layout", parent);
    const fs::path& root = staging.path();
    write_file_atomic(root / "AppxManifest.xml", manifest);
    fs::create_directories(root / "Assets");
    StoreLayoutResult result;
    result.files.emplace_back("AppxManifest.xml");
    for (const Logo& logo : kLogos)
    {
        write_file_atomic(root / logo.file, icon_png(logo.size));
        result.files.emplace_back(logo.file);
    }
    copy_into(o.image, root / "install.tar.gz", "--image");
    result.files.emplace_back("install.tar.gz");
    if (o.launcher)
    {
        copy_into(*o.launcher, root / "azurelinux.exe", "--launcher");
        result.files.emplace_back("azurelinux.exe");
        result.launcher_included = true;
    }
    // The staging folder is private (0700); the layout is for others to read and pack.
    fs::permissions(root, fs::perms(0755), ec);
    if (fs::exists(dir, ec))
    {
        fs::remove(dir, ec); // the empty folder the user named
    }
    fs::rename(root, dir, ec);
    if (ec)
    {
        throw UserError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    }
    staging.release();
    std::sort(result.files.begin(), result.files.end());
    result.dir = dir;
    return result;
}

} // namespace azl::packaging
