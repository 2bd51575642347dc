#pragma once
// Builds tar archives for tests with libarchive's writer, including hostile ones (raw member names
// are written as given: "../x", "/etc/passwd", duplicates, links out of the tree).

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace azl::test
{

// One member of a test archive.
struct Member
{
    enum class Kind
    {
        file,
        dir,
        symlink,
        hardlink,
        fifo,
        char_device,
    };
    std::string name; // written verbatim
    Kind kind = Kind::file;
    std::string content; // file
    std::string target;  // symlink or hardlink
    unsigned mode = 0644;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::int64_t mtime = 1700000000;
    std::vector<std::pair<std::string, std::string>> xattrs;
    std::int64_t declared_size =
        -1; // file: header size when different from content (truncation tests)
};

// Shorthands.
Member file(std::string name, std::string content, unsigned mode = 0644);
Member dir(std::string name, unsigned mode = 0755);
Member symlink(std::string name, std::string target);
Member hardlink(std::string name, std::string target);

// Compression of a test archive: "none", "gzip", "xz", "zstd", "bzip2".
// Writes a pax tar with the members in order to `path`.
void write_tar(
    const std::filesystem::path& path,
    const std::vector<Member>& members,
    const std::string& compression = "none");

// The bytes of a pax tar with the members (uncompressed), e.g. to embed as an OCI layer blob.
std::string tar_bytes(const std::vector<Member>& members, const std::string& compression = "none");

// SHA-256 of bytes as lowercase hex.
std::string sha256_hex(const std::string& bytes);

} // namespace azl::test
