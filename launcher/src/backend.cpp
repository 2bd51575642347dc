#include <azl/common/error.hpp>
#include <azl/launcher/backend.hpp>

#include <fmt/format.h>

namespace azl::launcher
{

std::string_view state_name(DistroState state)
{
    switch (state)
    {
    case DistroState::stopped:
        return "Stopped";
    case DistroState::running:
        return "Running";
    case DistroState::installing:
        return "Installing";
    case DistroState::uninstalling:
        return "Uninstalling";
    }
    return "Unknown";
}

std::string_view archive_format_name(ArchiveFormat format)
{
    switch (format)
    {
    case ArchiveFormat::tar:
        return "tar";
    case ArchiveFormat::tar_gz:
        return "tar.gz";
    case ArchiveFormat::tar_xz:
        return "tar.xz";
    case ArchiveFormat::vhdx:
        return "vhdx";
    }
    return "tar";
}

ArchiveFormat parse_archive_format(std::string_view name)
{
    for (const ArchiveFormat f :
         {ArchiveFormat::tar, ArchiveFormat::tar_gz, ArchiveFormat::tar_xz, ArchiveFormat::vhdx})
    {
        if (name == archive_format_name(f))
        {
            return f;
        }
    }
    throw UserError(
        fmt::format("unknown format '{}'", name), "use one of: tar, tar.gz, tar.xz, vhdx");
}

std::optional<ArchiveFormat> archive_format_from_path(const std::filesystem::path& file)
{
    std::string name = path_to_utf8(file.filename());
    for (char& c : name)
    {
        if (c >= 'A' && c <= 'Z')
        {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    const auto ends_with = [&name](std::string_view suffix) { return name.ends_with(suffix); };
    if (ends_with(".tar.gz") || ends_with(".tgz") || ends_with(".wsl"))
    {
        return ArchiveFormat::tar_gz;
    }
    if (ends_with(".tar.xz") || ends_with(".txz"))
    {
        return ArchiveFormat::tar_xz;
    }
    if (ends_with(".tar"))
    {
        return ArchiveFormat::tar;
    }
    if (ends_with(".vhdx"))
    {
        return ArchiveFormat::vhdx;
    }
    return std::nullopt;
}

} // namespace azl::launcher
