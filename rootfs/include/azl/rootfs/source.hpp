#pragma once

#include <azl/rootfs/entry.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace azl::rootfs
{

// A stream of entries: one layer of an image, read front to back.
class LayerReader : public ContentReader
{
public:
    // Advances to the next entry; false at the end of the layer. Unread content is skipped.
    // Throws UserError naming the layer for corrupt or truncated input.
    virtual bool next(Entry& entry) = 0;
};

// One layer of an image. It can be opened more than once (the flattener reads each layer twice:
// an index pass over headers, then an output pass). Entries may include OCI whiteouts.
class Layer
{
public:
    virtual ~Layer() = default;
    Layer() = default;
    Layer(const Layer&) = delete;
    Layer& operator=(const Layer&) = delete;
    Layer(Layer&&) = delete;
    Layer& operator=(Layer&&) = delete;

    // Starts a new read from the first entry.
    [[nodiscard]] virtual std::unique_ptr<LayerReader> open() const = 0;
    // Names the layer in messages: "image.tar:blobs/sha256/ab12…" or "rootfs/".
    [[nodiscard]] virtual std::string describe() const = 0;

    // True for layers of explicit user removals (make_removal_layer): the flattener reports their
    // whiteouts that remove nothing in FlattenStats::unmatched_whiteouts. Image layers say false.
    [[nodiscard]] virtual bool reports_unmatched_whiteouts() const
    {
        return false;
    }
};

// What a source turned out to be, detected by content.
enum class SourceFormat
{
    directory,
    tar,            // plain or compressed tar of a root filesystem
    oci_layout,     // OCI image layout: a directory or a tar of one
    docker_archive, // `docker save` output
};

// Human name of a format ("directory", "tar", "oci-layout", "docker-archive").
std::string_view format_name(SourceFormat format);

// Options for opening a source.
struct SourceOptions
{
    std::string platform = "linux/amd64"; // OCI/docker manifest selection: os/arch[/variant]
    std::filesystem::path spool_dir;      // where compressed layers may be decompressed once;
                                          // empty: $TMPDIR
};

// An opened source: its layers, bottom first.
struct Source
{
    std::filesystem::path path;
    SourceFormat format = SourceFormat::tar;
    // Of the file itself: "none", "gzip", "xz", "zstd", "bzip2" (tar only). A name, not the
    // writer's Compression: reading accepts filters the writer never produces, and reports name
    // them.
    std::string compression;
    std::vector<std::unique_ptr<Layer>> layers;
};

// Opens a source, detecting its format by content. Throws UserError naming the path for anything
// unreadable, unsupported, or ambiguous (e.g. an OCI index without the requested platform).
Source open_source(const std::filesystem::path& path, const SourceOptions& options = {});

// A layer that is a single host file placed at `dest` (root-owned; `mode` or the file's own mode),
// with implicit parent directories.
std::unique_ptr<Layer> make_file_layer(
    const std::filesystem::path& host_file,
    const std::string& dest,
    std::optional<std::uint32_t> mode);

// A layer that is a host directory tree re-rooted at `dest` (owned by root), with implicit parents.
std::unique_ptr<Layer>
make_directory_layer(const std::filesystem::path& host_dir, const std::string& dest);

// A layer of OCI whiteouts that removes each of `paths` (and everything below it).
std::unique_ptr<Layer> make_removal_layer(const std::vector<std::string>& paths);

} // namespace azl::rootfs
