#include "archive_builder.hpp"
#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/common/process.hpp>
#include <azl/rootfs/writer.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>

namespace
{

namespace fs = std::filesystem;
using azl::rootfs::ArchiveWriter;
using azl::rootfs::Compression;
using azl::rootfs::Entry;
using azl::rootfs::EntryType;
using azl::rootfs::WriteOptions;
using azl::rootfs::WriteResult;
using azl::test::count_files;

constexpr std::size_t kMiB = std::size_t{1} << 20U;

// Serves a string as entry content, at most `max_read` bytes per call (to exercise short reads).
class StringContent final : public azl::rootfs::ContentReader
{
public:
    explicit StringContent(const std::string& data, std::size_t max_read = 65536)
        : m_data(data)
        , m_max_read(max_read)
    {
    }

    std::size_t read(std::span<std::byte> buf) override
    {
        const std::size_t n = std::min({buf.size(), m_max_read, m_data.size() - m_pos});
        std::memcpy(buf.data(), m_data.data() + m_pos, n);
        m_pos += n;
        return n;
    }

private:
    const std::string& m_data;
    std::size_t m_max_read;
    std::size_t m_pos = 0;
};

struct Item
{
    Entry entry;
    std::string content;
};

Item make(std::string path, EntryType type, std::uint32_t mode, std::string content = {})
{
    Item it;
    it.entry.path = std::move(path);
    it.entry.type = type;
    it.entry.mode = mode;
    it.entry.mtime = 1700000000;
    it.entry.uname = "root";
    it.entry.gname = "root";
    if (type == EntryType::file)
    {
        it.entry.size = content.size();
        it.content = std::move(content);
    }
    return it;
}

Item link(std::string path, EntryType type, std::string target)
{
    Item it = make(std::move(path), type, type == EntryType::symlink ? 0777 : 0644);
    it.entry.link_target = std::move(target);
    return it;
}

Item device(std::string path, EntryType type, std::uint32_t major, std::uint32_t minor)
{
    Item it = make(std::move(path), type, 0666);
    it.entry.rdev_major = major;
    it.entry.rdev_minor = minor;
    return it;
}

// Deterministic data that compresses somewhat: random words from a small vocabulary plus noise.
std::string pseudo_random(std::size_t size, unsigned seed)
{
    std::mt19937 rng(seed);
    static constexpr auto kWords = std::to_array<std::string_view>(
        {"root ", "usr/lib ", "\177ELF", "libc.so.6 ", "\n", "0000", "debian ", "\t"});
    std::string out;
    out.reserve(size + 16);
    while (out.size() < size)
    {
        const auto r = rng();
        if ((r & 3U) == 0)
        {
            out.push_back(static_cast<char>(r >> 8U));
        }
        else
        {
            out += kWords.at((r >> 4U) % kWords.size());
        }
    }
    out.resize(size);
    return out;
}

// A tree with every entry type, an xattr, a hard link, names needing pax headers, and a file that
// spans several 1 MiB gzip chunks.
std::vector<Item> sample_items()
{
    std::vector<Item> items;
    items.push_back(make(".", EntryType::directory, 0755));
    items.push_back(make("etc", EntryType::directory, 0755));
    items.push_back(make("etc/passwd", EntryType::file, 0644, "root:x:0:0:root:/root:/bin/bash\n"));
    Item shadow = make("etc/shadow", EntryType::file, 0640, "root:*:19000:0:99999:7:::\n");
    shadow.entry.gid = 42;
    shadow.entry.gname = "shadow";
    items.push_back(shadow);
    Item ping = make(
        "usr/bin/ping",
        EntryType::file,
        04755,
        std::string(
            "\x7f"
            "ELF\x02\x01\x01",
            7));
    ping.entry.xattrs.push_back(
        {"security.capability",
         std::string(
             "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
             20)});
    items.push_back(ping);
    items.push_back(link("usr/bin/ping6", EntryType::hardlink, "usr/bin/ping"));
    items.push_back(link("bin", EntryType::symlink, "usr/bin"));
    items.push_back(link("usr/lib/long-link", EntryType::symlink, "../" + std::string(150, 't')));
    items.push_back(device("dev/null", EntryType::char_device, 1, 3));
    items.push_back(device("dev/sda", EntryType::block_device, 8, 0));
    items.push_back(make("run/initctl", EntryType::fifo, 0600));
    Item user = make("home/user/.profile", EntryType::file, 0644, "export PATH\n");
    user.entry.uid = 1000;
    user.entry.gid = 1000;
    user.entry.uname = "user";
    user.entry.gname = "user";
    items.push_back(user);
    items.push_back(
        make("usr/share/doc/" + std::string(120, 'n') + "/README", EntryType::file, 0644, "long"));
    items.push_back(make("usr/share/caf\xc3\xa9.txt", EntryType::file, 0644, "utf-8 name"));
    items.push_back(make("usr/share/raw-\xff\xfe.bin", EntryType::file, 0644, "not utf-8"));
    items.push_back(make("var/empty.txt", EntryType::file, 0644, ""));
    items.push_back(
        make("var/big.bin", EntryType::file, 0644, pseudo_random(3 * kMiB + kMiB / 2, 7)));
    return items;
}

WriteResult
write_items(const fs::path& out, const std::vector<Item>& items, const WriteOptions& options)
{
    ArchiveWriter writer(out, options);
    for (const auto& it : items)
    {
        if (it.entry.type == EntryType::file)
        {
            StringContent content(it.content, 1000 + it.content.size() % 77777);
            writer.add(it.entry, &content);
        }
        else
        {
            writer.add(it.entry, nullptr);
        }
    }
    return writer.commit();
}

struct ReadBack
{
    std::vector<Item> items;
    int filter = ARCHIVE_FILTER_NONE;
    std::uint64_t tar_bytes = 0;
};

// Reads an archive with libarchive, independently of the writer's own conversions.
ReadBack read_archive(const fs::path& file)
{
    std::unique_ptr<archive, decltype(&archive_read_free)> a(
        archive_read_new(), &archive_read_free);
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    REQUIRE(archive_read_open_filename(a.get(), file.c_str(), 65536) == ARCHIVE_OK);
    ReadBack rb;
    archive_entry* ae = nullptr;
    int rc = 0;
    while ((rc = archive_read_next_header(a.get(), &ae)) == ARCHIVE_OK)
    {
        Item it;
        Entry& e = it.entry;
        std::string name = archive_entry_pathname(ae);
        while (name.size() > 1 && name.back() == '/')
        {
            name.pop_back();
        }
        e.path = name;
        e.mode = static_cast<std::uint32_t>(archive_entry_perm(ae));
        e.uid = static_cast<std::uint32_t>(archive_entry_uid(ae));
        e.gid = static_cast<std::uint32_t>(archive_entry_gid(ae));
        e.uname = archive_entry_uname(ae) != nullptr ? archive_entry_uname(ae) : "";
        e.gname = archive_entry_gname(ae) != nullptr ? archive_entry_gname(ae) : "";
        e.mtime = archive_entry_mtime(ae);
        e.mtime_nsec = archive_entry_mtime_nsec(ae);
        if (archive_entry_hardlink(ae) != nullptr)
        {
            e.type = EntryType::hardlink;
            e.link_target = archive_entry_hardlink(ae);
        }
        else
        {
            switch (archive_entry_filetype(ae))
            {
            case AE_IFDIR:
                e.type = EntryType::directory;
                break;
            case AE_IFLNK:
                e.type = EntryType::symlink;
                e.link_target = archive_entry_symlink(ae);
                break;
            case AE_IFCHR:
                e.type = EntryType::char_device;
                break;
            case AE_IFBLK:
                e.type = EntryType::block_device;
                break;
            case AE_IFIFO:
                e.type = EntryType::fifo;
                break;
            default:
                e.type = EntryType::file;
                e.size = static_cast<std::uint64_t>(archive_entry_size(ae));
                break;
            }
        }
        e.rdev_major = static_cast<std::uint32_t>(archive_entry_rdevmajor(ae));
        e.rdev_minor = static_cast<std::uint32_t>(archive_entry_rdevminor(ae));
        archive_entry_xattr_reset(ae);
        const char* xname = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        while (archive_entry_xattr_next(ae, &xname, &value, &size) == ARCHIVE_OK)
        {
            e.xattrs.push_back({xname, std::string(static_cast<const char*>(value), size)});
        }
        std::array<char, 65536> buf{};
        la_ssize_t n = 0;
        while ((n = archive_read_data(a.get(), buf.data(), buf.size())) > 0)
        {
            it.content.append(buf.data(), static_cast<std::size_t>(n));
        }
        REQUIRE(n == 0);
        rb.items.push_back(std::move(it));
    }
    INFO(archive_error_string(a.get()));
    REQUIRE(rc == ARCHIVE_EOF);
    rb.filter = archive_filter_code(a.get(), 0);
    rb.tar_bytes =
        static_cast<std::uint64_t>(archive_filter_bytes(a.get(), 0)); // after decompression
    return rb;
}

void check_same(const std::vector<Item>& expected, const std::vector<Item>& actual)
{
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
    {
        const Entry& e = expected[i].entry;
        const Entry& a = actual[i].entry;
        INFO("entry " << e.path);
        CHECK(a.path == e.path);
        CHECK(a.type == e.type);
        if (e.type != EntryType::symlink) // libarchive reports symlink modes as 0777 on some paths
        {
            CHECK(a.mode == e.mode);
        }
        CHECK(a.uid == e.uid);
        CHECK(a.gid == e.gid);
        CHECK(a.uname == e.uname);
        CHECK(a.gname == e.gname);
        CHECK(a.mtime == e.mtime);
        CHECK(a.link_target == e.link_target);
        if (e.type == EntryType::char_device || e.type == EntryType::block_device)
        {
            CHECK(a.rdev_major == e.rdev_major);
            CHECK(a.rdev_minor == e.rdev_minor);
        }
        CHECK(a.xattrs == e.xattrs);
        CHECK(a.size == e.size);
        CHECK((actual[i].content == expected[i].content));
    }
}

// The number of gzip member headers as our writer emits them (MTIME 0, OS 3).
std::size_t count_gzip_members(const std::string& bytes)
{
    std::size_t count = 0;
    for (std::size_t pos = bytes.find("\x1f\x8b\x08\x00\x00\x00\x00\x00"); pos != std::string::npos;
         pos = bytes.find("\x1f\x8b\x08\x00\x00\x00\x00\x00", pos + 1))
    {
        if (pos + 9 < bytes.size() && bytes[pos + 9] == '\x03')
        {
            ++count;
        }
    }
    return count;
}

WriteOptions opts(Compression c, unsigned threads = 0, std::optional<int> level = std::nullopt)
{
    WriteOptions o;
    o.compression = c;
    o.threads = threads;
    o.level = level;
    return o;
}

} // namespace

TEST_CASE("parse_compression and compression_name agree", "[writer]")
{
    for (const auto c : {Compression::gzip, Compression::xz, Compression::zstd, Compression::none})
    {
        CHECK(azl::rootfs::parse_compression(azl::rootfs::compression_name(c)) == c);
    }
    CHECK_THROWS_AS(azl::rootfs::parse_compression("bzip2"), azl::UserError);
    CHECK_THROWS_WITH(
        azl::rootfs::parse_compression("gz"), Catch::Contains("unknown compression 'gz'"));
}

TEST_CASE("every compression round-trips every entry type", "[writer]")
{
    const azl::test::Sandbox box;
    const auto items = sample_items();
    const auto [compression, filter] = GENERATE(table<Compression, int>({
        {Compression::gzip, ARCHIVE_FILTER_GZIP},
        {Compression::xz, ARCHIVE_FILTER_XZ},
        {Compression::zstd, ARCHIVE_FILTER_ZSTD},
        {Compression::none, ARCHIVE_FILTER_NONE},
    }));
    INFO(azl::rootfs::compression_name(compression));
    const fs::path out = box.path() / "image.tar.any";
    const WriteResult r = write_items(out, items, opts(compression, 2));

    CHECK(r.path == out);
    CHECK(r.entries == items.size());
    CHECK(r.bytes == fs::file_size(out));
    const ReadBack rb = read_archive(out);
    CHECK(rb.filter == filter);
    CHECK(rb.tar_bytes == r.uncompressed_bytes);
    CHECK(r.uncompressed_bytes % 512 == 0);
    check_same(items, rb.items);
    CHECK(count_files(box.path()) == 1); // no temporary file left beside it
}

TEST_CASE("gzip output is multi-member and every gzip reader reads all of it", "[writer]")
{
    const azl::test::Sandbox box;
    const auto items = sample_items();
    const fs::path out = box.path() / "image.wsl";
    const WriteResult r = write_items(out, items, opts(Compression::gzip, 2));

    const std::string bytes = azl::test::slurp(out);
    CHECK(count_gzip_members(bytes) == (r.uncompressed_bytes + kMiB - 1) / kMiB);
    CHECK(count_gzip_members(bytes) >= 4);

    CHECK(azl::run_process({"gzip", "-t", out.string()}).ok());
    const auto plain = azl::run_process({"gzip", "-dc", out.string()});
    REQUIRE(plain.ok());
    CHECK(plain.out.size() == r.uncompressed_bytes);

    // GNU tar and bsdtar (what WSL uses) list every member and extract the file spanning chunks.
    const std::string& big = items.back().content;
    for (const std::string tar : {"tar", "bsdtar"})
    {
        INFO(tar);
        REQUIRE(azl::find_program(tar).has_value());
        const auto list = azl::run_process({tar, "-tzf", out.string()});
        REQUIRE(list.ok());
        std::set<std::string> names;
        std::string line;
        for (const char c : list.out)
        {
            if (c != '\n')
            {
                line.push_back(c);
                continue;
            }
            while (line.size() > 1 && line.back() == '/')
            {
                line.pop_back();
            }
            names.insert(line);
            line.clear();
        }
        CHECK(names.size() == items.size());
        CHECK(names.count("var/big.bin") == 1);
        const fs::path dest = box.path() / (tar + "-out");
        fs::create_directory(dest);
        const auto x =
            azl::run_process({tar, "-xzf", out.string(), "-C", dest.string(), "var/big.bin"});
        INFO(x.err);
        REQUIRE(x.ok());
        CHECK((azl::test::slurp(dest / "var/big.bin") == big));
    }
}

TEST_CASE("the same entries give the same bytes whatever the thread count", "[writer]")
{
    const azl::test::Sandbox box;
    auto items = sample_items();
    const auto [compression, level, extra] = GENERATE(table<Compression, int, std::size_t>({
        {Compression::gzip, 6, 0},
        {Compression::gzip, 12, 0},
        // big enough for several xz blocks (3 MiB at level 1) and zstd jobs (8 MiB at level 3)
        {Compression::xz, 1, 10 * kMiB},
        {Compression::zstd, 3, 20 * kMiB},
        {Compression::none, 0, 0},
    }));
    INFO(azl::rootfs::compression_name(compression) << " level " << level);
    if (extra > 0)
    {
        items.push_back(make("var/extra.bin", EntryType::file, 0644, pseudo_random(extra, 11)));
    }
    const std::optional<int> lvl =
        compression == Compression::none ? std::nullopt : std::optional(level);
    const WriteResult one = write_items(box.path() / "t1", items, opts(compression, 1, lvl));
    const WriteResult four = write_items(box.path() / "t4", items, opts(compression, 4, lvl));
    const WriteResult again = write_items(box.path() / "t4b", items, opts(compression, 4, lvl));
    const WriteResult any = write_items(box.path() / "t0", items, opts(compression, 0, lvl));
    const std::string bytes = azl::test::slurp(box.path() / "t1");
    CHECK((azl::test::slurp(box.path() / "t4") == bytes));
    CHECK((azl::test::slurp(box.path() / "t4b") == bytes));
    CHECK((azl::test::slurp(box.path() / "t0") == bytes));
    CHECK(one.sha256 == four.sha256);
    CHECK(one.sha256 == again.sha256);
    CHECK(one.sha256 == any.sha256);
}

TEST_CASE("the SHA-256 is that of the file on disk", "[writer]")
{
    const azl::test::Sandbox box;
    const fs::path out = box.path() / "image.wsl";
    const WriteResult r = write_items(out, sample_items(), opts(Compression::gzip));
    const auto sum = azl::run_process({"sha256sum", out.string()});
    REQUIRE(sum.ok());
    CHECK(sum.out.substr(0, 64) == r.sha256);
    CHECK(r.sha256 == azl::test::sha256_hex(azl::test::slurp(out)));
}

TEST_CASE("source_date_epoch clamps newer mtimes and keeps older ones", "[writer]")
{
    const azl::test::Sandbox box;
    std::vector<Item> items;
    items.push_back(make("old", EntryType::file, 0644, "o"));
    items.back().entry.mtime = 1000;
    items.push_back(make("new", EntryType::file, 0644, "n"));
    items.back().entry.mtime = 2000000000;
    items.back().entry.mtime_nsec = 123456789;
    items.push_back(make("same-second", EntryType::directory, 0755));
    items.back().entry.mtime = 1500000000;
    items.back().entry.mtime_nsec = 5;
    // An xattr forces a pax header, where libarchive would store nanoseconds if any were left.
    items.back().entry.xattrs.push_back({"user.note", "x"});

    WriteOptions o = opts(Compression::gzip);
    o.source_date_epoch = 1500000000;
    write_items(box.path() / "a.tar.gz", items, o);
    const ReadBack rb = read_archive(box.path() / "a.tar.gz");
    REQUIRE(rb.items.size() == 3);
    CHECK(rb.items[0].entry.mtime == 1000);
    CHECK(rb.items[1].entry.mtime == 1500000000);
    CHECK(rb.items[1].entry.mtime_nsec == 0);
    CHECK(rb.items[2].entry.mtime == 1500000000);
    CHECK(rb.items[2].entry.mtime_nsec == 0);

    // Without the clamp the pax header keeps the nanoseconds.
    write_items(box.path() / "b.tar.gz", items, opts(Compression::gzip));
    const ReadBack unclamped = read_archive(box.path() / "b.tar.gz");
    CHECK(unclamped.items[2].entry.mtime_nsec == 5);
}

TEST_CASE("an empty archive is a valid compressed tar", "[writer]")
{
    const azl::test::Sandbox box;
    const fs::path out = box.path() / "empty.tar.gz";
    const WriteResult r = write_items(out, {}, opts(Compression::gzip));
    CHECK(r.entries == 0);
    CHECK(r.uncompressed_bytes == 1024); // two zero blocks, no padding to a 10 KiB record
    CHECK(read_archive(out).items.empty());
    CHECK(azl::run_process({"gzip", "-t", out.string()}).ok());
}

TEST_CASE("a writer destroyed without commit leaves nothing", "[writer]")
{
    const azl::test::Sandbox box;
    const auto compression =
        GENERATE(Compression::gzip, Compression::xz, Compression::zstd, Compression::none);
    {
        ArchiveWriter writer(box.path() / "image.wsl", opts(compression));
        const auto items = sample_items();
        for (std::size_t i = 0; i < 4; ++i)
        {
            StringContent content(items[i].content);
            writer.add(items[i].entry, items[i].entry.type == EntryType::file ? &content : nullptr);
        }
    }
    CHECK(count_files(box.path()) == 0);
}

TEST_CASE("content that does not match the entry size is an error and leaves nothing", "[writer]")
{
    const azl::test::Sandbox box;
    const fs::path out = box.path() / "image.wsl";
    Item item = make("etc/hostname", EntryType::file, 0644, "abc");
    SECTION("short")
    {
        item.entry.size = 10;
        CHECK_THROWS_WITH(
            write_items(out, {item}, opts(Compression::gzip)),
            Catch::Contains("/etc/hostname") && Catch::Contains("ended after 3 of its 10 bytes"));
    }
    SECTION("long")
    {
        item.entry.size = 2;
        CHECK_THROWS_WITH(
            write_items(out, {item}, opts(Compression::gzip)),
            Catch::Contains("/etc/hostname") && Catch::Contains("longer than its 2 bytes"));
    }
    CHECK(count_files(box.path()) == 0);
}

TEST_CASE("a level out of range is refused before anything is written", "[writer]")
{
    const azl::test::Sandbox box;
    const fs::path out = box.path() / "image.wsl";
    CHECK_THROWS_WITH(
        ArchiveWriter(out, opts(Compression::gzip, 0, 15)),
        "--level 15 is out of range for gzip (1-12)");
    CHECK_THROWS_WITH(
        ArchiveWriter(out, opts(Compression::gzip, 0, 0)),
        "--level 0 is out of range for gzip (1-12)");
    CHECK_THROWS_WITH(
        ArchiveWriter(out, opts(Compression::xz, 0, 10)),
        "--level 10 is out of range for xz (0-9)");
    CHECK_THROWS_WITH(
        ArchiveWriter(out, opts(Compression::zstd, 0, 20)),
        "--level 20 is out of range for zstd (1-19)");
    CHECK_THROWS_AS(ArchiveWriter(out, opts(Compression::none, 0, 3)), azl::UserError);
    CHECK(count_files(box.path()) == 0);
    // The ends of each range are accepted.
    for (const auto& [c, level] : std::vector<std::pair<Compression, int>>{
             {Compression::gzip, 1},
             {Compression::gzip, 12},
             {Compression::xz, 0},
             {Compression::xz, 9},
             {Compression::zstd, 1},
             {Compression::zstd, 19}})
    {
        INFO(azl::rootfs::compression_name(c) << " " << level);
        const WriteResult r =
            write_items(out, {make("a", EntryType::file, 0644, "abc")}, opts(c, 1, level));
        CHECK(read_archive(out).items.size() == 1);
        CHECK(r.entries == 1);
    }
}

namespace
{

// Lowers the file size limit so that writes fail with EFBIG, as a full disk fails with ENOSPC.
class FileSizeLimit
{
public:
    explicit FileSizeLimit(rlim_t bytes)
    {
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &m_saved) == 0);
        m_old_handler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit = m_saved;
        limit.rlim_cur = bytes;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
    }

    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;
    FileSizeLimit(FileSizeLimit&&) = delete;
    FileSizeLimit& operator=(FileSizeLimit&&) = delete;

    ~FileSizeLimit()
    {
        ::setrlimit(RLIMIT_FSIZE, &m_saved);
        // signal() fails only for an invalid signal number, and a destructor cannot report it.
        (void)std::signal(SIGXFSZ, m_old_handler);
    }

private:
    rlimit m_saved{};
    void (*m_old_handler)(int) = nullptr;
};

} // namespace

TEST_CASE("a write error names the output file and leaves nothing", "[writer]")
{
    const azl::test::Sandbox box;
    const fs::path out = box.path() / "image.wsl";
    const auto compression =
        GENERATE(Compression::gzip, Compression::xz, Compression::zstd, Compression::none);
    const auto items = sample_items();
    {
        const FileSizeLimit limit(rlim_t{64} * 1024);
        // xz level 0 keeps the test fast; the output still exceeds the limit.
        const std::optional<int> level =
            compression == Compression::xz ? std::optional(0) : std::nullopt;
        CHECK_THROWS_WITH(
            write_items(out, items, opts(compression, 2, level)),
            Catch::StartsWith("writing " + out.string()) && Catch::Contains("File too large"));
    }
    CHECK(count_files(box.path()) == 0);
}

TEST_CASE("commit and add after a failure or a commit are refused", "[writer]")
{
    const azl::test::Sandbox box;
    ArchiveWriter writer(box.path() / "a.tar", opts(Compression::none));
    writer.add(make("d", EntryType::directory, 0755).entry, nullptr);
    writer.commit();
    CHECK_THROWS_AS(writer.commit(), std::logic_error);
    CHECK_THROWS_AS(
        writer.add(make("e", EntryType::directory, 0755).entry, nullptr), std::logic_error);
    CHECK(read_archive(box.path() / "a.tar").items.size() == 1);
}
