#include "archive_builder.hpp"
#include "collect_sink.hpp"
#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/rootfs/flatten.hpp>
#include <azl/rootfs/source.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace azl::rootfs;
using azl::test::CollectSink;
using azl::test::mem_dir;
using azl::test::mem_file;
using azl::test::mem_link;
using azl::test::mem_whiteout;
using azl::test::MemLayer;

namespace
{

std::unique_ptr<CollectSink>
run(std::initializer_list<const MemLayer*> layers, FlattenStats* stats = nullptr)
{
    const std::vector<const Layer*> ptrs(layers.begin(), layers.end());
    return azl::test::flatten_all(ptrs, stats);
}

std::vector<std::string> sorted(std::vector<std::string> v)
{
    std::sort(v.begin(), v.end());
    return v;
}

bool has_whiteout_name(const CollectSink& sink)
{
    return std::any_of(
        sink.items.begin(),
        sink.items.end(),
        [](const auto& c) { return c.entry.path.find(".wh.") != std::string::npos; });
}

} // namespace

TEST_CASE("flatten: later layers win, directories merge with upper metadata", "[flatten]")
{
    const MemLayer lower(
        {mem_dir("etc", 0755), mem_file("etc/a", "lower a"), mem_file("etc/b", "lower b")});
    const MemLayer upper(
        {mem_dir("etc", 0700, 42), mem_file("etc/a", "upper a"), mem_file("etc/c", "upper c")});
    const auto sink = run({&lower, &upper});
    CHECK(sink->paths() == std::vector<std::string>{"etc", "etc/b", "etc/a", "etc/c"});
    CHECK(sink->at("etc").entry.mode == 0700);
    CHECK(sink->at("etc").entry.uid == 42);
    CHECK(sink->at("etc/a").content == "upper a");
    CHECK(sink->at("etc/b").content == "lower b");
}

TEST_CASE("flatten: directories first in path order, then files in stream order", "[flatten]")
{
    const MemLayer layer(
        {mem_dir("z"), mem_file("z/1", "x"), mem_dir("a"), mem_file("a/2", "y"), mem_dir("a/b")});
    const auto sink = run({&layer});
    CHECK(sink->paths() == std::vector<std::string>{"a", "a/b", "z", "z/1", "a/2"});
}

TEST_CASE(
    "flatten: a whiteout removes a lower file or subtree but not its own layer's entry",
    "[flatten]")
{
    const MemLayer lower(
        {mem_dir("d"),
         mem_file("d/x", "1"),
         mem_dir("d/sub"),
         mem_file("d/sub/y", "2"),
         mem_file("keep", "k"),
         mem_file("f", "lower")});
    // The same layer re-creates "f" after whiting it out: only the lower one goes.
    const MemLayer upper({mem_whiteout("d"), mem_whiteout("f"), mem_file("f", "upper")});
    const auto sink = run({&lower, &upper});
    CHECK(sorted(sink->paths()) == std::vector<std::string>{"f", "keep"});
    CHECK(sink->at("f").content == "upper");
    CHECK_FALSE(has_whiteout_name(*sink));
}

TEST_CASE(
    "flatten: an opaque directory hides lower children, keeps its own (marker before or after)",
    "[flatten]")
{
    const MemLayer lower(
        {mem_dir("d"),
         mem_file("d/old", "o"),
         mem_dir("d/olddir"),
         mem_file("d/olddir/x", "x"),
         mem_file("other", "z")});
    SECTION("marker first")
    {
        const MemLayer upper(
            {mem_dir("d"), mem_file("d/.wh..wh..opq", ""), mem_file("d/new", "n")});
        const auto sink = run({&lower, &upper});
        CHECK(sorted(sink->paths()) == std::vector<std::string>{"d", "d/new", "other"});
    }
    SECTION("marker after the layer's own children")
    {
        const MemLayer upper(
            {mem_dir("d"),
             mem_file("d/new", "n"),
             mem_dir("d/olddir"),
             mem_file("d/olddir/y", "y"),
             mem_file("d/.wh..wh..opq", "")});
        const auto sink = run({&lower, &upper});
        CHECK(
            sorted(sink->paths())
            == std::vector<std::string>{"d", "d/new", "d/olddir", "d/olddir/y", "other"});
    }
    SECTION("own child below a lower directory the layer does not list")
    {
        const MemLayer upper({mem_file("d/olddir/y", "y"), mem_file("d/.wh..wh..opq", "")});
        const auto sink = run({&lower, &upper});
        CHECK(
            sorted(sink->paths())
            == std::vector<std::string>{"d", "d/olddir", "d/olddir/y", "other"});
        CHECK(sink->at("d/olddir").entry.mode == 0755);
    }
}

TEST_CASE("flatten: whiteout names never reach the output", "[flatten]")
{
    const MemLayer aufs({mem_file(".wh..wh.plnk", ""), mem_file("a", "1")});
    CHECK(run({&aufs})->paths() == std::vector<std::string>{"a"});
    const MemLayer below({mem_file("d/.wh.x/y", "1")}, "bad-layer");
    CHECK_THROWS_WITH(
        run({&below}), Catch::Contains("bad-layer: 'd/.wh.x/y' lies below a whiteout name"));
    const MemLayer dotdot({mem_file(".wh...", "")});
    CHECK_THROWS_WITH(run({&dotdot}), Catch::Contains("invalid whiteout"));
}

TEST_CASE("flatten: a file replaces a directory tree and a directory replaces a file", "[flatten]")
{
    const MemLayer lower(
        {mem_dir("a"),
         mem_file("a/x", "1"),
         mem_dir("a/b"),
         mem_file("a/b/y", "2"),
         mem_file("f", "file")});
    const MemLayer upper({mem_file("a", "now a file"), mem_dir("f"), mem_file("f/inside", "3")});
    const auto sink = run({&lower, &upper});
    CHECK(sorted(sink->paths()) == std::vector<std::string>{"a", "f", "f/inside"});
    CHECK(sink->at("a").entry.type == EntryType::file);
    CHECK(sink->at("a").content == "now a file");
    CHECK(sink->at("f").entry.type == EntryType::directory);
}

TEST_CASE("flatten: the later entry of a path within one layer wins", "[flatten]")
{
    const MemLayer layer({mem_file("x", "first"), mem_file("x", "second")});
    const auto sink = run({&layer});
    REQUIRE(sink->items.size() == 1);
    CHECK(sink->at("x").content == "second");
}

TEST_CASE(
    "flatten: missing parents are synthesized, entries below a non-directory are refused",
    "[flatten]")
{
    const MemLayer layer({mem_file("a/b/c", "deep")});
    const auto sink = run({&layer});
    CHECK(sink->paths() == std::vector<std::string>{"a", "a/b", "a/b/c"});
    CHECK(sink->at("a").entry.mode == 0755);

    const MemLayer lower({mem_link("bin", "usr/bin", EntryType::symlink)});
    const MemLayer upper({mem_file("bin/tool", "t")});
    CHECK_THROWS_WITH(
        run({&lower, &upper}), Catch::Contains("'bin/tool' is inside 'bin', which is a symlink"));
}

TEST_CASE("flatten: a hard link whose target survives stays a link after its target", "[flatten]")
{
    const MemLayer layer(
        {mem_dir("bin"),
         mem_file("bin/a", "content"),
         mem_link("bin/b", "bin/a"),
         mem_link("bin/c", "bin/b")});
    const auto sink = run({&layer});
    CHECK(sink->paths() == std::vector<std::string>{"bin", "bin/a", "bin/b", "bin/c"});
    CHECK(sink->at("bin/b").entry.type == EntryType::hardlink);
    CHECK(sink->at("bin/b").entry.link_target == "bin/a");
    CHECK(sink->at("bin/c").entry.link_target == "bin/a"); // chains resolve to the object
}

TEST_CASE(
    "flatten: hard links whose target was replaced or removed get the original content",
    "[flatten]")
{
    const MemLayer lower(
        {mem_file("a", "original"),
         mem_link("b", "a"),
         mem_link("c", "a"),
         mem_file("p", "p0"),
         mem_link("q", "p")});
    const MemLayer upper({mem_file("a", "replacement"), mem_whiteout("p")});
    const auto sink = run({&lower, &upper});
    CHECK(sorted(sink->paths()) == std::vector<std::string>{"a", "b", "c", "q"});
    CHECK(sink->at("a").content == "replacement");
    CHECK(sink->at("b").entry.type == EntryType::file);
    CHECK(sink->at("b").content == "original");
    CHECK(sink->at("c").entry.type == EntryType::hardlink);
    CHECK(sink->at("c").entry.link_target == "b");
    CHECK(sink->at("q").entry.type == EntryType::file);
    CHECK(sink->at("q").content == "p0");
    // The copy precedes the link to it.
    const auto order = sink->paths();
    CHECK(std::find(order.begin(), order.end(), "b") < std::find(order.begin(), order.end(), "c"));
}

TEST_CASE(
    "flatten: the first surviving link carries the content when earlier links are gone too",
    "[flatten]")
{
    const MemLayer lower(
        {mem_file("a", "data"), mem_link("b", "a"), mem_link("c", "a"), mem_link("d", "a")});
    const MemLayer upper({mem_whiteout("a"), mem_whiteout("b")});
    const auto sink = run({&lower, &upper});
    CHECK(sink->at("c").content == "data");
    CHECK(sink->at("d").entry.link_target == "c");
}

TEST_CASE(
    "flatten: a hard link to nothing earlier in its layer is an error naming layer and member",
    "[flatten]")
{
    const MemLayer lower({mem_file("a", "x")});
    const MemLayer upper({mem_link("b", "a")}, "upper-layer");
    CHECK_THROWS_WITH(
        run({&lower, &upper}), Catch::Contains("upper-layer") && Catch::Contains("'b'"));
    const MemLayer dirlink({mem_dir("d"), mem_link("l", "d")});
    CHECK_THROWS_AS(run({&dirlink}), azl::UserError);
}

TEST_CASE("flatten: xattrs, devices and fifos pass through", "[flatten]")
{
    auto cap = mem_file("usr/bin/ping", "elf", 0755);
    cap.entry.xattrs = {
        {"security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8)}};
    Entry null;
    null.path = "dev/null";
    null.type = EntryType::char_device;
    null.mode = 0666;
    null.rdev_major = 1;
    null.rdev_minor = 3;
    Entry fifo;
    fifo.path = "run/fifo";
    fifo.type = EntryType::fifo;
    const MemLayer layer({cap, {null, {}}, {fifo, {}}});
    const auto sink = run({&layer});
    CHECK(sink->at("usr/bin/ping").entry.xattrs == cap.entry.xattrs);
    CHECK(sink->at("dev/null").entry.type == EntryType::char_device);
    CHECK(sink->at("dev/null").entry.rdev_minor == 3);
    CHECK(sink->at("run/fifo").entry.type == EntryType::fifo);
}

TEST_CASE("flatten: implicit directories never override existing ones", "[flatten]")
{
    azl::test::Sandbox box;
    const auto host = box.write("tool", "#!/bin/sh\n", 0755);
    const MemLayer base({mem_dir("usr", 0750, 7)});
    const auto add = make_file_layer(host, "/usr/local/bin/tool", std::nullopt);
    const auto sink = azl::test::flatten_all({&base, add.get()});
    CHECK(sink->at("usr").entry.mode == 0750);
    CHECK(sink->at("usr").entry.uid == 7);
    CHECK(sink->at("usr/local").entry.mode == 0755);
    CHECK(sink->at("usr/local/bin/tool").entry.mode == 0755);
    CHECK(sink->at("usr/local/bin/tool").entry.uid == 0);
    CHECK(sink->at("usr/local/bin/tool").content == "#!/bin/sh\n");
}

TEST_CASE("flatten: removal layers remove and report what matched nothing", "[flatten]")
{
    const MemLayer base(
        {mem_dir("var"),
         mem_dir("var/cache"),
         mem_file("var/cache/x", "x"),
         mem_file("etc-file", "e")});
    const auto removal =
        make_removal_layer({"/var/cache", "/nope", "missing/dir/file", "etc-file"});
    FlattenStats stats;
    const auto sink = azl::test::flatten_all({&base, removal.get()}, &stats);
    CHECK(sink->paths() == std::vector<std::string>{"var"});
    CHECK(stats.unmatched_whiteouts == std::vector<std::string>{"nope", "missing/dir/file"});
    CHECK(stats.entries == 1);

    // Whiteouts of image layers that match nothing are normal and not reported.
    const MemLayer image_layer({mem_whiteout("ghost")});
    FlattenStats quiet;
    azl::test::flatten_all({&base, &image_layer}, &quiet);
    CHECK(quiet.unmatched_whiteouts.empty());
}

TEST_CASE("flatten: the root entry is kept when a layer has one", "[flatten]")
{
    const MemLayer without({mem_file("a", "1")});
    CHECK(run({&without})->paths() == std::vector<std::string>{"a"});
    const MemLayer with({mem_dir(".", 0700), mem_file("a", "1")});
    const auto sink = run({&with});
    CHECK(sink->paths() == std::vector<std::string>{".", "a"});
    CHECK(sink->at(".").entry.mode == 0700);
}

TEST_CASE("flatten: stats count entries and content bytes, output is deterministic", "[flatten]")
{
    const MemLayer lower({mem_dir("d"), mem_file("d/a", "12345"), mem_link("d/b", "d/a")});
    const MemLayer upper({mem_file("d/a", "xy"), mem_file("d/c", "abc")});
    FlattenStats first;
    FlattenStats second;
    const auto one = run({&lower, &upper}, &first);
    const auto two = run({&lower, &upper}, &second);
    CHECK(first.entries == 4);
    CHECK(first.content_bytes == 5 + 2 + 3);
    REQUIRE(one->items.size() == two->items.size());
    for (std::size_t i = 0; i < one->items.size(); ++i)
    {
        CHECK(one->items[i].entry.path == two->items[i].entry.path);
        CHECK(one->items[i].content == two->items[i].content);
    }
}

TEST_CASE("flatten: tar layers with whiteouts, through open_source", "[flatten]")
{
    azl::test::Sandbox box;
    using azl::test::dir;
    using azl::test::file;
    azl::test::write_tar(
        box.path() / "l1.tar",
        {dir("./etc"),
         file("./etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
         dir("./tmp"),
         file("./tmp/junk", "j")});
    azl::test::write_tar(
        box.path() / "l2.tar",
        {dir("./tmp"), file("./tmp/.wh..wh..opq", ""), file("./etc/.wh.passwd", "")},
        "gzip");
    const Source s1 = open_source(box.path() / "l1.tar");
    const Source s2 = open_source(box.path() / "l2.tar");
    const auto sink = azl::test::flatten_all({s1.layers.at(0).get(), s2.layers.at(0).get()});
    CHECK(sink->paths() == std::vector<std::string>{"etc", "tmp"});
}
