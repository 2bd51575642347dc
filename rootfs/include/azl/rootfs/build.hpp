#pragma once

#include <azl/common/progress.hpp>
#include <azl/rootfs/entry.hpp>
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

// Sees every entry of the flattened tree on its way to the archive: may change or drop entries,
// and add more after the last one. Lets a caller apply its own policy (packaging: WSL rules)
// without the image engine knowing it.
class TreeFilter
{
public:
    virtual ~TreeFilter() = default;
    TreeFilter() = default;
    TreeFilter(const TreeFilter&) = delete;
    TreeFilter& operator=(const TreeFilter&) = delete;
    TreeFilter(TreeFilter&&) = delete;
    TreeFilter& operator=(TreeFilter&&) = delete;

    // Passes `entry` on to `next` as it is, changed, or not at all. A regular file passed on comes
    // with a reader that yields exactly its size (`content`, or one wrapping it).
    virtual void add(const Entry& entry, ContentReader* content, EntrySink& next) = 0;

    // Runs after the last entry, before the archive is committed: may add entries to `next`, or
    // throw to fail the build (nothing is then left at the output).
    virtual void finish(EntrySink& next) = 0;
};

// Everything `azurelinux image build` needs.
struct BuildOptions
{
    std::vector<std::filesystem::path> sources; // bottom first; each may have several layers
    std::string platform = "linux/amd64";
    std::vector<std::string> removes; // applied after the sources
    std::vector<AddFile> add_files;   // applied last
    std::vector<AddDir> add_dirs;     // applied before add_files
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

// One image build, its options checked once: the constructor checks them and reads nothing, run()
// builds. A caller with rules of its own (packaging's WSL build) checks those in between, so the
// engine's errors come first, and adds its generated files and its filter there.
class ImageBuild
{
public:
    // Checks the output path (not a directory, its folder exists, a .wsl is gzip or xz) and that
    // the inputs exist: throws UserError naming the problem.
    explicit ImageBuild(BuildOptions options);

    // A file the caller generated: added after the removals and before --add-dir and --add, so
    // the user's own additions win.
    void add_preset_file(AddFile file);

    // Passes every entry through `filter` (not owned; it must outlive run()).
    void set_filter(TreeFilter& filter) noexcept;

    [[nodiscard]] const BuildOptions& options() const noexcept
    {
        return m_options;
    }

    // Flattens the sources, applies removals and additions, writes the archive atomically and its
    // checksum file. Nothing is left at the output unless everything succeeded.
    BuildResult run();

private:
    BuildOptions m_options;
    std::vector<AddFile> m_preset_files;
    TreeFilter* m_filter = nullptr;
};

// ImageBuild(options).run(), for a caller with no rules of its own.
BuildResult build_image(const BuildOptions& options);

} // namespace azl::rootfs
