// build_wsl_image on small tar sources: the WSL files and rules it applies, read back from the
// output with the image engine's tar reader.

#include "archive_builder.hpp"
#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/common/ini.hpp>
#include <azl/packaging/wsl_image.hpp>
#include <azl/rootfs/check.hpp>
#include <azl/rootfs/source.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using azl::UserError;
using azl::rootfs::Entry;
using azl::rootfs::EntryType;
using azl::test::dir;
using azl::test::file;
using azl::test::host_elf;
using azl::test::Member;
using azl::test::Sandbox;
using azl::test::write_tar;
using Catch::Matchers::Contains;
using namespace azl::packaging;

namespace
{

using Members = std::vector<Member>;

Members base_tree()
{
    return {
        dir("./"),
        dir("etc"),
        file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        file("etc/group", "root:x:0:\n"),
        file("etc/shadow", "root:*:19000:0:99999:7:::\n", 0640),
        file("etc/os-release", "ID=azurelinux\nVERSION_ID=4.0\n"),
        dir("usr"),
        dir("usr/bin"),
        file("usr/bin/dash", host_elf(), 0755),
        azl::test::symlink("usr/bin/sh", "dash"),
        file("usr/bin/id", "id", 0755),
        azl::test::symlink("bin", "usr/bin"),
        azl::test::symlink("sbin", "usr/sbin"),
        dir("usr/sbin"),
    };
}

struct ReadBack
{
    std::map<std::string, Entry> entries;
    std::map<std::string, std::string> content;
};

ReadBack read_back(const fs::path& archive)
{
    const auto source = azl::rootfs::open_source(archive);
    REQUIRE(source.layers.size() == 1);
    auto reader = source.layers.front()->open();
    ReadBack out;
    Entry e;
    while (reader->next(e))
    {
        if (e.type == EntryType::file)
        {
            std::string data;
            std::array<std::byte, 4096> buf{};
            while (const std::size_t n = reader->read(buf))
            {
                data.append(reinterpret_cast<const char*>(buf.data()), n);
            }
            out.content[e.path] = data;
        }
        out.entries[e.path] = e;
    }
    return out;
}

// A sandbox with a source tar, fake guest programs (the host's dash: an ELF of this machine) and
// options that build `out.wsl` from them.
struct Fixture
{
    Sandbox sb;
    WslImageOptions options;

    explicit Fixture(const Members& members)
    {
        write_tar(sb.path() / "src.tar", members);
        sb.write("bin/azurelinux-oobe", host_elf(), 0755);
        sb.write("bin/azurelinux-bridge", host_elf(), 0755);
        options.build.sources = {sb.path() / "src.tar"};
        options.build.output = sb.path() / "out.wsl";
        options.build.progress = azl::ProgressMode::off;
        options.build.write.source_date_epoch = 1700000000;
        options.program_dir = sb.path() / "bin";
    }
};

} // namespace

TEST_CASE("a .wsl gets the WSL files with the modes and owners WSL requires", "[wsl-image]")
{
    Fixture fx(base_tree());
    const WslImageResult result = build_wsl_image(fx.options);
    CHECK(result.wsl_files);
    CHECK(result.wsl_conf_added);
    CHECK_FALSE(result.systemd);
    const ReadBack out = read_back(fx.options.build.output);
    const std::map<std::string, std::uint32_t> modes = {
        {"etc/wsl-distribution.conf", 0644},
        {"etc/wsl.conf", 0644},
        {"usr/lib/wsl/azurelinux-oobe", 0755},
        {"usr/bin/azurelinux-bridge", 0755},
        {"usr/share/wsl/azurelinux.ico", 0644},
        {"usr/lib/wsl/terminal-profile.json", 0640},
        {"etc/profile.d/azurelinux-bridge.sh", 0644},
        {"etc/azurelinux/bridge.conf", 0644},
    };
    for (const auto& [path, mode] : modes)
    {
        INFO(path);
        REQUIRE(out.entries.count(path) == 1);
        CHECK(out.entries.at(path).mode == mode);
        CHECK(out.entries.at(path).uid == 0);
        CHECK(out.entries.at(path).gid == 0);
        CHECK(out.entries.at(path).mtime == 1700000000);
    }
    CHECK(out.content.at("usr/lib/wsl/azurelinux-oobe") == host_elf());
    const auto conf = azl::IniFile::parse(out.content.at("etc/wsl-distribution.conf"), "conf");
    CHECK(conf.get("oobe", "defaultName") == "AzureLinux");
    CHECK(out.content.at("etc/wsl.conf").find("systemd") == std::string::npos);
    CHECK_FALSE(out.entries.contains("etc/azurelinux/oobe.json"));

    const auto report = azl::rootfs::check_image(fx.options.build.output);
    for (const auto& f : report.findings)
    {
        FAIL_CHECK(f.rule << ": " << f.message);
    }
}

TEST_CASE("a missing guest program names itself and the option", "[wsl-image]")
{
    Fixture fx(base_tree());
    fs::remove(fx.sb.path() / "bin/azurelinux-oobe");
    CHECK_THROWS_WITH(
        build_wsl_image(fx.options), Contains("azurelinux-oobe is not beside this program"));
    try
    {
        build_wsl_image(fx.options);
    }
    catch (const UserError& e)
    {
        CHECK_THAT(e.hint(), Contains("--oobe PATH") && Contains("--no-guest-tools"));
    }
    fx.options.oobe = fx.sb.path() / "nowhere/oobe";
    CHECK_THROWS_WITH(build_wsl_image(fx.options), Contains("--oobe"));
    CHECK_FALSE(fs::exists(fx.options.build.output));

    // --no-guest-tools: the image must provide the program itself.
    fx.options.oobe.reset();
    fx.options.guest_tools = GuestTools::from_image;
    fx.options.bridge_files = BridgeFiles::leave_out;
    CHECK_THROWS_WITH(
        build_wsl_image(fx.options), Contains("the image has no /usr/lib/wsl/azurelinux-oobe"));
    CHECK_FALSE(fs::exists(fx.options.build.output));
}

TEST_CASE("zstd or no compression is refused for a .wsl before anything else", "[wsl-image]")
{
    Fixture fx(base_tree());
    fs::remove(fx.sb.path() / "bin/azurelinux-oobe");
    for (const auto c : {azl::rootfs::Compression::zstd, azl::rootfs::Compression::none})
    {
        fx.options.build.write.compression = c;
        CHECK_THROWS_WITH(build_wsl_image(fx.options), Contains("must be gzip or xz"));
    }
    // A plain tar may be zstd, with the WSL files too.
    fs::copy_file("/bin/dash", fx.sb.path() / "bin/azurelinux-oobe");
    fx.options.build.output = fx.sb.path() / "rootfs.tar.zst";
    fx.options.wsl_files = WslFiles::on;
    CHECK(build_wsl_image(fx.options).wsl_files);
}

TEST_CASE("security.selinux/ima/evm are stripped unless kept, capabilities stay", "[wsl-image]")
{
    Members tree = base_tree();
    Member tool = file("usr/bin/tool", "x", 0755);
    tool.xattrs = {
        {"security.capability", std::string("\x01\x00\x00\x02", 4)},
        {"security.selinux", "system_u:object_r:bin_t:s0"},
        {"security.ima", "ima"},
        {"user.note", "kept"}};
    tree.push_back(tool);
    Fixture fx(tree);
    const WslImageResult stripped = build_wsl_image(fx.options);
    CHECK(stripped.stripped_xattrs == 2);
    std::vector<std::string> names;
    const ReadBack out = read_back(fx.options.build.output);
    for (const auto& x : out.entries.at("usr/bin/tool").xattrs)
    {
        names.push_back(x.name);
    }
    CHECK(names == std::vector<std::string>{"security.capability", "user.note"});

    fx.options.xattrs = Wsl1Xattrs::keep;
    CHECK(build_wsl_image(fx.options).stripped_xattrs == 0);
    CHECK(read_back(fx.options.build.output).entries.at("usr/bin/tool").xattrs.size() == 4);
}

TEST_CASE("units that break under WSL are reported, or masked with --mask-units", "[wsl-image]")
{
    Members tree = base_tree();
    for (const char* d :
         {"usr/lib",
          "usr/lib/systemd",
          "usr/lib/systemd/system",
          "etc/systemd",
          "etc/systemd/system",
          "etc/systemd/system/multi-user.target.wants"})
    {
        tree.push_back(dir(d));
    }
    tree.push_back(file("usr/lib/systemd/system/systemd-resolved.service", "[Unit]\n"));
    tree.push_back(file("usr/lib/systemd/system/ssh.service", "[Unit]\n"));
    tree.push_back(azl::test::symlink(
        "etc/systemd/system/multi-user.target.wants/systemd-resolved.service",
        "/usr/lib/systemd/system/systemd-resolved.service"));
    tree.push_back(file("etc/systemd/system/tmp.mount", "[Mount]\n"));
    Fixture fx(tree);

    const WslImageResult warned = build_wsl_image(fx.options);
    CHECK(warned.masked_units.empty());
    REQUIRE(warned.build.warnings.size() == 1);
    CHECK_THAT(
        warned.build.warnings[0], Contains("systemd-resolved.service") && Contains("--mask-units"));

    fx.options.units = HostileUnits::mask;
    const WslImageResult masked = build_wsl_image(fx.options);
    CHECK(masked.build.warnings.empty());
    CHECK(masked.masked_units == std::vector<std::string>{"systemd-resolved.service", "tmp.mount"});
    const ReadBack out = read_back(fx.options.build.output);
    for (const char* unit : {"systemd-resolved.service", "tmp.mount"})
    {
        const Entry& e = out.entries.at(std::string("etc/systemd/system/") + unit);
        CHECK(e.type == EntryType::symlink);
        CHECK(e.link_target == "/dev/null");
    }
    CHECK_FALSE(out.entries.contains("etc/systemd/system/ssh.service"));
    const auto report = azl::rootfs::check_image(fx.options.build.output);
    for (const auto& f : report.findings)
    {
        CHECK(f.rule != "systemd-units");
    }
}

TEST_CASE("wsl.conf boots systemd only when /sbin/init resolves to an ELF", "[wsl-image]")
{
    Members tree = base_tree();
    tree.push_back(dir("usr/lib"));
    tree.push_back(dir("usr/lib/systemd"));
    // Labelled as on an SELinux system: the label is stripped, the ELF is still recognized.
    Member systemd = file("usr/lib/systemd/systemd", host_elf(), 0755);
    systemd.xattrs = {{"security.selinux", "system_u:object_r:init_exec_t:s0"}};
    tree.push_back(systemd);
    tree.push_back(azl::test::symlink("usr/sbin/init", "../lib/systemd/systemd"));
    Fixture with_init(tree);
    CHECK(build_wsl_image(with_init.options).systemd);
    const auto conf = azl::IniFile::parse(
        read_back(with_init.options.build.output).content.at("etc/wsl.conf"), "wsl.conf");
    CHECK(conf.get("boot", "systemd") == "true");

    // A script as init does not count; an image's own wsl.conf is kept as it is.
    tree.back() = file("usr/sbin/init", "#!/bin/sh\nexec /bin/sh\n", 0755);
    tree.push_back(file("etc/wsl.conf", "[interop]\nenabled = false\n"));
    Fixture script_init(tree);
    const WslImageResult result = build_wsl_image(script_init.options);
    CHECK_FALSE(result.wsl_conf_added);
    CHECK(
        read_back(script_init.options.build.output).content.at("etc/wsl.conf")
        == "[interop]\nenabled = false\n");

    tree.pop_back();
    Fixture no_conf(tree);
    CHECK_FALSE(build_wsl_image(no_conf.options).systemd);
}

TEST_CASE("WSL options are refused for a plain output, --answers and --default-name", "[wsl-image]")
{
    Fixture fx(base_tree());
    fx.options.build.output = fx.sb.path() / "rootfs.tar.gz";
    CHECK_FALSE(build_wsl_image(fx.options).wsl_files);
    fx.options.units = HostileUnits::mask;
    CHECK_THROWS_WITH(
        build_wsl_image(fx.options), Contains("--mask-units applies only for WSL images"));

    Fixture named(base_tree());
    named.options.default_name = "Contoso-1";
    named.sb.write("answers.json", "{\"version\": 1}");
    named.options.answers = named.sb.path() / "answers.json";
    const WslImageResult result = build_wsl_image(named.options);
    const ReadBack out = read_back(named.options.build.output);
    CHECK(out.entries.at("etc/azurelinux/oobe.json").mode == 0600);
    CHECK(out.content.at("etc/azurelinux/oobe.json") == "{\"version\": 1}");
    CHECK_THAT(out.content.at("etc/wsl-distribution.conf"), Contains("defaultName = Contoso-1"));
    CHECK(std::count(result.added.begin(), result.added.end(), "/etc/azurelinux/oobe.json") == 1);

    named.sb.write("bad.json", "[1, 2]");
    named.options.answers = named.sb.path() / "bad.json";
    CHECK_THROWS_WITH(build_wsl_image(named.options), Contains("not a JSON object"));
    named.options.answers.reset();
    named.options.default_name = "two words";
    CHECK_THROWS_WITH(build_wsl_image(named.options), Contains("--default-name 'two words'"));
}

TEST_CASE("guest programs of another architecture than the image are refused", "[wsl-image]")
{
    Fixture fx(base_tree());
    std::string foreign = host_elf();
    foreign[18] = static_cast<char>(static_cast<unsigned char>(foreign[18]) == 183 ? 62 : 183);
    foreign[19] = 0;
    fx.sb.write("bin/azurelinux-oobe", foreign, 0755);
    fx.sb.write("bin/azurelinux-bridge", foreign, 0755);
    CHECK_THROWS_WITH(build_wsl_image(fx.options), Contains("but the image is for"));
    CHECK_FALSE(fs::exists(fx.options.build.output));
}

TEST_CASE(
    "git's credential helper goes to /etc/gitconfig only where the image has none", "[wsl-image]")
{
    Fixture fx(base_tree());
    const WslImageResult result = build_wsl_image(fx.options);
    CHECK(std::count(result.added.begin(), result.added.end(), "/etc/gitconfig") == 1);
    const ReadBack out = read_back(fx.options.build.output);
    REQUIRE(out.entries.count("etc/gitconfig") == 1);
    CHECK(out.entries.at("etc/gitconfig").mode == 0644);
    const auto& text = out.content.at("etc/gitconfig");
    CHECK_THAT(text, Contains("\thelper = /usr/bin/azurelinux-bridge git-credential\n"));
    CHECK_THAT(text, Contains("[credential \"https://dev.azure.com\"]\n\tuseHttpPath = true\n"));

    Members own = base_tree();
    own.push_back(file("etc/gitconfig", "[core]\n\tautocrlf = input\n"));
    Fixture with_own(own);
    const WslImageResult kept = build_wsl_image(with_own.options);
    CHECK(std::count(kept.added.begin(), kept.added.end(), "/etc/gitconfig") == 0);
    CHECK(
        read_back(with_own.options.build.output).content.at("etc/gitconfig")
        == "[core]\n\tautocrlf = input\n");

    Fixture no_bridge(base_tree());
    no_bridge.options.bridge_files = BridgeFiles::leave_out;
    build_wsl_image(no_bridge.options);
    CHECK_FALSE(read_back(no_bridge.options.build.output).entries.contains("etc/gitconfig"));
}
