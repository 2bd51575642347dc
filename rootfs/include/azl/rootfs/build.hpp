#pragma once

#include <azl/common/progress.hpp>
#include <azl/rootfs/writer.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace azl::rootfs
{

// `--add SRC:DEST[:MODE]`: one host file placed in the image.
struct AddFile
{
    std::filesystem::path source;
    std::string dest;
    std::optional<std::uint32_t> mode;
};

// `--add-dir DIR:DEST`: a host directory tree placed in the image.
struct AddDir
{
    std::filesystem::path source;
    std::string dest;
};

// Everything `azurelinux image build` needs.
struct BuildOptions
{
    std::vector<std::filesystem::path> sources; // bottom first; each may have several layers
    std::string platform = "linux/amd64";
    std::vector<std::string> removes; // applied after the sources
    std::vector<AddFile> add_files;   // applied last
    std::vector<AddDir> add_dirs;
    std::filesystem::path output;
    WriteOptions write;
    ProgressMode progress = ProgressMode::auto_detect;
};

// What a build produced (the JSON summary of `image build --json`).
struct BuildResult
{
    WriteResult archive;
    std::filesystem::path checksum_file; // OUT.sha256 in `sha256sum` format
    std::vector<std::string> warnings;   // e.g. a --remove that matched nothing
};

// Parses "SRC:DEST[:MODE]" / "DIR:DEST"; throws UserError quoting the argument when malformed.
AddFile parse_add_file(std::string_view spec);
AddDir parse_add_dir(std::string_view spec);

// Flattens the sources, applies removals and additions, writes the archive atomically and its
// checksum file. Nothing is left at `output` unless everything succeeded.
BuildResult build_image(const BuildOptions& options);

} // namespace azl::rootfs
