#pragma once
// Building blocks of the image sources (source_*.cpp). Private header.

#include <azl/common/c_ptr.hpp>
#include <azl/common/fs.hpp>
#include <azl/rootfs/digest.hpp>
#include <azl/rootfs/source.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace azl::rootfs::detail
{

// Bytes read from files at a time: large blocks keep syscalls and libarchive overhead low.
inline constexpr std::size_t kReadBlock = std::size_t{1} << 20U;

// A byte range of an open regular file: a whole file, a member of an uncompressed tar, a spool.
struct FileRange
{
    std::shared_ptr<const UniqueFd> fd;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

// Opens a regular file read-only as a range over all of it; throws UserError naming it.
FileRange open_file_range(const std::filesystem::path& path);

// Reads up to buf.size() bytes at `pos` (relative to the range); returns 0 at its end. `name` is
// for messages.
std::size_t read_range(
    const FileRange& range, std::uint64_t pos, std::span<std::byte> buf, const std::string& name);

// The compression of the bytes at the start of `range` by magic number: "gzip", "xz", "zstd",
// "bzip2", or "none".
std::string sniff_compression(const FileRange& range, const std::string& name);

// Computes a content digest ("sha256:<hex>" or "sha512:<hex>") incrementally.
class Digester
{
public:
    // `expected` is a full digest string; throws UserError naming `what` when it is malformed or
    // uses an algorithm other than sha256/sha512.
    Digester(const std::string& expected, const std::string& what);

    void update(std::span<const std::byte> data);
    // Throws UserError naming `what` when the bytes seen do not match the expected digest.
    void verify();

private:
    Hasher m_hasher;
    std::string m_expected;
    std::string m_algorithm;
    std::string m_what;
};

// An unlinked file holding decompressed bytes; removed by the kernel when the last range closes it.
// Throws when `dir` is not writable. Input is hashed into `digester` (when given) and verified
// after the whole input was consumed. Errors name `name`.
FileRange spool_decompressed(
    const FileRange& input,
    const std::filesystem::path& dir,
    Digester* digester,
    const std::string& name);

// The directory for spool files: `configured`, else $TMPDIR, else /tmp.
std::filesystem::path spool_directory(const std::filesystem::path& configured);

// Where a tar layer's bytes are and how to check them.
struct BlobSpec
{
    std::string name;                // for messages and Layer::describe()
    FileRange range;                 // the stored bytes, maybe compressed
    std::string digest;              // expected digest of the stored bytes, or empty when unknown
    std::filesystem::path spool_dir; // where a compressed blob is decompressed once
};

// A layer that is a tar (plain or compressed) stored in a file range. A compressed blob is
// decompressed once, at the first open(), into a spool file that both passes then read; a plain one
// is read in place, with data skipped by seeking. The digest is checked during the first full read.
std::unique_ptr<Layer> make_blob_layer(BlobSpec spec);

// Reads a small file range whole (JSON documents); throws UserError naming `name`
// above `max_bytes`.
std::string read_small(const FileRange& range, const std::string& name, std::uint64_t max_bytes);

// Files of a container of blobs: an OCI layout or docker-save tree, as a directory or a tar.
class BlobStore
{
public:
    virtual ~BlobStore() = default;
    BlobStore() = default;
    BlobStore(const BlobStore&) = delete;
    BlobStore& operator=(const BlobStore&) = delete;
    BlobStore(BlobStore&&) = delete;
    BlobStore& operator=(BlobStore&&) = delete;

    // The bytes of the regular file at `rel` (a relative path inside the container), or nullopt
    // when there is none. Throws UserError for names that leave the container.
    [[nodiscard]] virtual std::optional<FileRange> find(const std::string& rel) const = 0;
    // Names `rel` in messages: "image.tar:blobs/sha256/…" or "layout/blobs/sha256/…".
    [[nodiscard]] virtual std::string describe(const std::string& rel) const = 0;
};

// A member of an outer tar found by scan_outer_tar.
struct TarMember
{
    enum class Kind
    {
        file,
        symlink,
        hardlink,
        other,
    };
    Kind kind = Kind::file;
    std::uint64_t offset = 0; // of the data within the scanned range
    std::uint64_t size = 0;
    std::string target; // symlink (as stored) or hardlink (normalized)
};

// Result of reading the member list of a tar that may be an image archive.
struct OuterScan
{
    bool looks_like_image_archive = false;    // every top-level name fits an OCI/docker archive
    std::map<std::string, TarMember> members; // complete only when looks_like_image_archive
};

// Scans the headers of the plain tar in `range`, stopping at the first member that cannot belong
// to an OCI layout or docker archive. Throws UserError naming `name` when it is not a tar at all.
OuterScan scan_outer_tar(const FileRange& range, const std::string& name);

// A blob store over a directory.
std::unique_ptr<BlobStore> make_dir_store(const std::filesystem::path& root);

// A blob store over a scanned plain tar (the tar range is kept open by the store).
std::unique_ptr<BlobStore> make_tar_store(
    const std::filesystem::path& archive,
    FileRange range,
    std::map<std::string, TarMember> members);

// Fills `source.layers` from the OCI layout in `store` for `options.platform`.
void open_oci_layout(const BlobStore& store, const SourceOptions& options, Source& source);

// Fills `source.layers` from the docker-save archive in `store`; `options.platform` is checked.
void open_docker_archive(const BlobStore& store, const SourceOptions& options, Source& source);

// How a directory tree becomes a layer.
struct DirLayerOptions
{
    std::string dest = ".";        // where the tree's root lands in the image
    bool force_root_owner = false; // uid/gid 0 for everything (injected trees)
    bool root_implicit =
        false; // the tree's root is an implicit directory (keeps existing metadata)
};

// A layer over a host directory tree, walked in sorted order.
std::unique_ptr<Layer> make_tree_layer(const std::filesystem::path& root, DirLayerOptions options);

// A root-owned 0755 directory entry marked implicit (used only where the path is absent).
Entry implicit_directory(std::string path);

// Implicit parent directory entries for `path` (excluding "." and `path` itself), top first.
std::vector<Entry> implicit_parents(const std::string& path);

// Throws UserError naming `source` for a tar member name that leaves the root.
std::string checked_member_path(std::string_view raw, const std::string& source);

} // namespace azl::rootfs::detail
