#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace azl::rootfs
{

// The kind of a filesystem object as stored in an image.
enum class EntryType
{
    file,
    directory,
    symlink,
    hardlink, // `link_target` names an earlier entry of the same stream
    char_device,
    block_device,
    fifo,
};

// One extended attribute; `value` holds raw bytes.
struct Xattr
{
    std::string name;
    std::string value;

    friend bool operator==(const Xattr&, const Xattr&) = default;
};

// One object of a root filesystem: metadata only; content is read from the producer separately.
struct Entry
{
    std::string path; // normalized: relative to the root, no "./", no leading or trailing '/',
                      // no "." or ".." components; the root itself is "."
    EntryType type = EntryType::file;
    std::uint32_t mode = 0; // permission bits including setuid/setgid/sticky (07777 mask)
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::string uname; // may be empty (numeric only)
    std::string gname;
    std::int64_t mtime = 0; // seconds since the epoch
    std::int64_t mtime_nsec = 0;
    std::uint64_t size = 0;  // content bytes (regular files only)
    std::string link_target; // symlink: as stored; hardlink: a normalized path
    std::uint32_t rdev_major = 0;
    std::uint32_t rdev_minor = 0;
    std::vector<Xattr> xattrs; // sorted by name

    // Set on directories synthesized as parents of injected paths: used only if the path is absent.
    bool implicit = false;
};

// Reads the content of the current entry of a stream.
class ContentReader
{
public:
    virtual ~ContentReader() = default;
    ContentReader() = default;
    ContentReader(const ContentReader&) = delete;
    ContentReader& operator=(const ContentReader&) = delete;
    ContentReader(ContentReader&&) = delete;
    ContentReader& operator=(ContentReader&&) = delete;

    // Fills up to buf.size() bytes of the current entry's content; returns 0 at its end.
    virtual std::size_t read(std::span<std::byte> buf) = 0;
};

// Receives the entries of a tree in output order (e.g. an archive writer).
class EntrySink
{
public:
    virtual ~EntrySink() = default;
    EntrySink() = default;
    EntrySink(const EntrySink&) = delete;
    EntrySink& operator=(const EntrySink&) = delete;
    EntrySink(EntrySink&&) = delete;
    EntrySink& operator=(EntrySink&&) = delete;

    // Adds one entry; for regular files `content` yields exactly `entry.size`
    // bytes, else it is null.
    virtual void add(const Entry& entry, ContentReader* content) = 0;
};

// Normalizes an archive member name or a user-given image path ("./usr//bin/", "/etc/passwd") to
// the Entry::path form. Returns nullopt for names that escape the root ("../x", "a/../../b").
std::optional<std::string> normalize_path(std::string_view name);

// Whether a raw member name has a ".." component (even one that stays inside the root).
bool has_dotdot(std::string_view name);

// The parent of a normalized path ("usr/bin" -> "usr", "usr" -> ".").
std::string parent_path(std::string_view path);

// The most symlinks one path resolution follows, as on Linux (ELOOP beyond 40).
inline constexpr int kMaxSymlinkHops = 40;

// Where a path leads inside an image.
struct ImagePath
{
    std::string path;  // normalized (Entry::path form; "." is the root)
    bool loop = false; // more than kMaxSymlinkHops symlinks: `path` is where it stopped
};

// Follows every symlink on the way to `path` inside an image, as the kernel would with the image as
// its root: an absolute target starts again at the root, a relative one at the link's directory,
// ".." stops at the root. `symlink_target(p)` is the stored target of the symlink at the normalized
// path p, or null when p is not a symlink. Hard links are the caller's to follow.
ImagePath resolve_image_path(
    std::string_view path,
    const std::function<const std::string*(const std::string&)>& symlink_target);

// Human name of a type for messages and JSON ("file", "directory", "symlink", ...).
std::string_view type_name(EntryType type);

} // namespace azl::rootfs
