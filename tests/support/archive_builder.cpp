#include "archive_builder.hpp"

#include <azl/common/text.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string_view>

namespace azl::test
{

Member file(std::string name, std::string content, unsigned mode)
{
    Member m;
    m.name = std::move(name);
    m.content = std::move(content);
    m.mode = mode;
    return m;
}

Member dir(std::string name, unsigned mode)
{
    Member m;
    m.name = std::move(name);
    m.kind = Member::Kind::dir;
    m.mode = mode;
    return m;
}

Member symlink(std::string name, std::string target)
{
    Member m;
    m.name = std::move(name);
    m.kind = Member::Kind::symlink;
    m.target = std::move(target);
    m.mode = 0777;
    return m;
}

Member hardlink(std::string name, std::string target)
{
    Member m;
    m.name = std::move(name);
    m.kind = Member::Kind::hardlink;
    m.target = std::move(target);
    return m;
}

namespace
{

void check(archive* a, int rc, const char* what)
{
    if (rc < ARCHIVE_WARN)
    {
        const char* message = archive_error_string(a);
        throw std::runtime_error(std::string(what) + ": " + (message != nullptr ? message : "?"));
    }
}

la_ssize_t write_cb(archive* /*a*/, void* client, const void* buf, size_t n)
{
    static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
}

} // namespace

std::string tar_bytes(const std::vector<Member>& members, const std::string& compression)
{
    std::unique_ptr<archive, decltype(&archive_write_free)> a(
        archive_write_new(), &archive_write_free);
    check(a.get(), archive_write_set_format_pax_restricted(a.get()), "format");
    if (compression == "gzip")
    {
        check(a.get(), archive_write_add_filter_gzip(a.get()), "gzip");
    }
    else if (compression == "xz")
    {
        check(a.get(), archive_write_add_filter_xz(a.get()), "xz");
    }
    else if (compression == "zstd")
    {
        check(a.get(), archive_write_add_filter_zstd(a.get()), "zstd");
    }
    else if (compression == "bzip2")
    {
        check(a.get(), archive_write_add_filter_bzip2(a.get()), "bzip2");
    }
    else if (compression != "none")
    {
        throw std::invalid_argument("unknown compression " + compression);
    }
    check(a.get(), archive_write_set_bytes_in_last_block(a.get(), 1), "block");
    std::string out;
    check(a.get(), archive_write_open(a.get(), &out, nullptr, write_cb, nullptr), "open");
    for (const auto& m : members)
    {
        std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(
            archive_entry_new(), &archive_entry_free);
        archive_entry_set_pathname(e.get(), m.name.c_str());
        archive_entry_set_perm(e.get(), m.mode);
        archive_entry_set_uid(e.get(), m.uid);
        archive_entry_set_gid(e.get(), m.gid);
        archive_entry_set_mtime(e.get(), m.mtime, 0);
        switch (m.kind)
        {
        case Member::Kind::file:
            archive_entry_set_filetype(e.get(), AE_IFREG);
            archive_entry_set_size(
                e.get(),
                m.declared_size >= 0 ? m.declared_size : static_cast<la_int64_t>(m.content.size()));
            break;
        case Member::Kind::dir:
            archive_entry_set_filetype(e.get(), AE_IFDIR);
            break;
        case Member::Kind::symlink:
            archive_entry_set_filetype(e.get(), AE_IFLNK);
            archive_entry_set_symlink(e.get(), m.target.c_str());
            break;
        case Member::Kind::hardlink:
            archive_entry_set_filetype(e.get(), AE_IFREG);
            archive_entry_set_hardlink(e.get(), m.target.c_str());
            break;
        case Member::Kind::fifo:
            archive_entry_set_filetype(e.get(), AE_IFIFO);
            break;
        case Member::Kind::char_device:
            archive_entry_set_filetype(e.get(), AE_IFCHR);
            archive_entry_set_rdevmajor(e.get(), 1);
            archive_entry_set_rdevminor(e.get(), 3);
            break;
        }
        for (const auto& [k, v] : m.xattrs)
        {
            archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());
        }
        check(a.get(), archive_write_header(a.get(), e.get()), "header");
        if (m.kind == Member::Kind::file && !m.content.empty())
        {
            const auto n = archive_write_data(a.get(), m.content.data(), m.content.size());
            if (n < 0)
            {
                throw std::runtime_error(archive_error_string(a.get()));
            }
        }
    }
    check(a.get(), archive_write_close(a.get()), "close");
    return out;
}

void write_tar(
    const std::filesystem::path& path,
    const std::vector<Member>& members,
    const std::string& compression)
{
    const std::string bytes = tar_bytes(members, compression);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out)
    {
        throw std::runtime_error("cannot write " + path.string());
    }
}

std::string sha256_hex(const std::string& bytes)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    {
        throw std::runtime_error("sha256 failed");
    }
    return hex_encode(std::span<const unsigned char>(md.data(), len));
}

} // namespace azl::test
