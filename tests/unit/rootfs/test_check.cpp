#include "archive_builder.hpp"
#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/rootfs/check.hpp>
#include <azl/rootfs/extract.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using azl::ExitCode;
using azl::UserError;
using azl::rootfs::check_image;
using azl::rootfs::CheckOptions;
using azl::rootfs::CheckReport;
using azl::rootfs::Severity;
using azl::test::dir;
using azl::test::file;
using azl::test::hardlink;
using azl::test::Member;
using azl::test::Sandbox;
using azl::test::write_tar;
using Catch::Matchers::Contains;

namespace
{

using Members = std::vector<Member>;

Member sym(std::string name, std::string target)
{
    return azl::test::symlink(std::move(name), std::move(target));
}

std::string host_shell()
{
    return azl::test::slurp("/bin/dash");
}

// The e_machine of the host shell, and an ELF header of another architecture.
std::string foreign_elf()
{
    const std::string host = host_shell();
    std::string elf = host.substr(0, 64);
    const bool host_is_arm = static_cast<unsigned char>(host[18]) == 183;
    elf[18] = static_cast<char>(host_is_arm ? 62 : 183);
    elf[19] = 0;
    return elf;
}

// A minimal root filesystem every rule accepts: merged /usr, /bin/sh -> dash (the host's ELF).
Members good_tree()
{
    Member shadow = file("etc/shadow", "root:*:19000:0:99999:7:::\nbin:!:19000::::::\n", 0640);
    shadow.gid = 42;
    return {
        dir("./"),
        dir("etc"),
        file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/sbin/nologin\n"),
        file("etc/group", "root:x:0:\nbin:x:1:\nshadow:x:42:\n"),
        shadow,
        sym("etc/os-release", "../usr/lib/os-release"),
        dir("usr"),
        dir("usr/bin"),
        dir("usr/lib"),
        file("usr/lib/os-release", "NAME=\"Azure Linux\"\nID=azurelinux\nVERSION_ID=\"3.0\"\n"),
        file("usr/bin/dash", host_shell(), 0755),
        sym("usr/bin/sh", "dash"),
        file("usr/bin/id", "id", 0755),
        sym("bin", "usr/bin"),
        sym("sbin", "usr/sbin"),
    };
}

Members replace(Members members, const Member& m)
{
    for (auto& existing : members)
    {
        if (existing.name == m.name)
        {
            existing = m;
            return members;
        }
    }
    members.push_back(m);
    return members;
}

Members without(Members members, const std::string& name)
{
    members.erase(
        std::remove_if(
            members.begin(), members.end(), [&](const Member& m) { return m.name == name; }),
        members.end());
    return members;
}

Members plus(Members members, const Member& m)
{
    members.push_back(m);
    return members;
}

CheckReport check_members(
    const Sandbox& sb,
    const Members& members,
    const CheckOptions& options = {},
    const std::string& name = "image.wsl",
    const std::string& compression = "gzip")
{
    const fs::path archive = sb.path() / name;
    write_tar(archive, members, compression);
    return check_image(archive, options);
}

std::set<std::string> fired(const CheckReport& report)
{
    std::set<std::string> ids;
    for (const auto& f : report.findings)
    {
        ids.insert(f.rule);
    }
    return ids;
}

std::string describe(const CheckReport& report)
{
    std::string out;
    for (const auto& f : report.findings)
    {
        out += f.rule + ": " + f.message + "\n";
    }
    return out;
}

const azl::rootfs::Finding* finding(const CheckReport& report, const std::string& rule)
{
    for (const auto& f : report.findings)
    {
        if (f.rule == rule)
        {
            return &f;
        }
    }
    return nullptr;
}

} // namespace

TEST_CASE("check passes a minimal good image, archive or directory", "[check]")
{
    Sandbox sb;
    const CheckReport report = check_members(sb, good_tree());
    INFO(describe(report));
    CHECK(report.findings.empty());
    CHECK_FALSE(report.has_errors());
    CHECK(report.format == "tar");
    CHECK(report.compression == "gzip");
    CHECK(report.entries == good_tree().size());

    if (::geteuid() == 0) // the directory's owners must be root for shadow-mode
    {
        azl::rootfs::extract_archive(sb.path() / "image.wsl", sb.path() / "tree");
        const CheckReport dir_report = check_image(sb.path() / "tree");
        INFO(describe(dir_report));
        CHECK(dir_report.findings.empty());
        CHECK(dir_report.format == "directory");
        CHECK(dir_report.compression == "none");
        CHECK(dir_report.entries == good_tree().size());
    }
}

TEST_CASE("each rule fires on a crafted bad image", "[check]")
{
    const std::string elf = host_shell();
    Member hashed =
        file("etc/shadow", "root:$6$salt$SECRETHASH:19000::::::\nbin:*:1::::::\n", 0640);
    Member open_shadow = file("etc/shadow", "root:*:1::::::\n", 0644);
    Member foreign_owner = file("etc/shadow", "root:*:1::::::\n", 0600);
    foreign_owner.uid = 5;
    Member selinux = file("usr/bin/tagged", "x");
    selinux.xattrs = {{"security.selinux", "system_u:object_r:bin_t:s0"}};

    struct Case
    {
        const char* rule;
        Members members;
        std::string needle; // in the finding's message
        CheckOptions options = {};
    };

    CheckOptions tiny_limit;
    tiny_limit.max_uncompressed_bytes = 10;
    CheckOptions arm;
    arm.arch = static_cast<unsigned char>(elf[18]) == 183 ? "x86_64" : "aarch64";

    const std::vector<Case> cases = {
        {"absolute-path", plus(good_tree(), file("/etc/extra", "x")), "/etc/extra"},
        {"dotdot-path", plus(good_tree(), file("usr/../../x", "x")), "usr/../../x"},
        {"duplicate-entry",
         plus(good_tree(), file("./etc/group", "root:x:0:\n")),
         "/etc/group is stored 2 times"},
        {"hardlink-target",
         plus(good_tree(), hardlink("usr/bin/x", "usr/bin/missing")),
         "usr/bin/missing"},
        {"passwd-present", without(good_tree(), "etc/passwd"), "no /etc/passwd"},
        {"passwd-format",
         replace(good_tree(), file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nbroken:x:1:1\n")),
         "line 2 (user 'broken') has 4 fields"},
        {"passwd-format",
         replace(
             good_tree(),
             file("etc/passwd", "root:x:0:0::/root:/bin/sh\nbin:x:one:1::/:/bin/sh\n")),
         "uid of user 'bin' is not a number"},
        {"passwd-format",
         replace(
             good_tree(),
             file("etc/passwd", "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n")),
         "already used by 'root'"},
        {"passwd-root",
         replace(good_tree(), file("etc/passwd", "admin:x:0:0::/root:/bin/sh\n")),
         "no root user"},
        {"passwd-root",
         replace(good_tree(), file("etc/passwd", "root:x:7:0::/root:/bin/sh\n")),
         "root has uid '7'"},
        {"passwd-default-uid",
         replace(
             good_tree(),
             file("etc/passwd", "root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n")),
         "user 'bob' already has uid 1000"},
        {"group-file", without(good_tree(), "etc/group"), "no /etc/group"},
        {"group-file",
         replace(good_tree(), file("etc/group", "root:x:0\n")),
         "3 fields instead of 4"},
        {"shadow-mode", replace(good_tree(), open_shadow), "mode 0644"},
        {"shadow-mode", replace(good_tree(), foreign_owner), "owner uid 5"},
        {"password-hashes", replace(good_tree(), hashed), "password hash for user 'root'"},
        {"password-hashes",
         replace(good_tree(), file("etc/shadow", "root::1::::::\n", 0600)),
         "empty password"},
        {"shell-elf",
         replace(good_tree(), file("usr/bin/dash", "#!/bin/busybox sh\n", 0755)),
         "not an ELF executable"},
        {"shell-elf", without(good_tree(), "usr/bin/sh"), "/bin/sh (-> /usr/bin/sh) is missing"},
        {"shell-elf", replace(good_tree(), sym("usr/bin/sh", "/bin/sh")), "symlink loop"},
        {"shell-elf",
         plus(good_tree(), file("usr/bin/bash", foreign_elf(), 0755)),
         "/bin/bash (-> /usr/bin/bash) is built for"},
        {"shell-elf", good_tree(), "but the image is for", arm},
        {"shell-mode", replace(good_tree(), file("usr/bin/dash", elf, 0644)), "mode 0644"},
        {"shell-mode", replace(good_tree(), file("usr/bin/dash", elf, 0777)), "mode 0777"},
        {"systemd-init",
         plus(good_tree(), file("etc/wsl.conf", "[boot]\nsystemd=true\n")),
         "/sbin/init (-> /usr/sbin/init) is missing"},
        {"os-release",
         replace(good_tree(), file("usr/lib/os-release", "ID=azurelinux\n")),
         "has no VERSION_ID"},
        {"os-release", without(good_tree(), "usr/lib/os-release"), "no /etc/os-release"},
        {"usr-bin-id", without(good_tree(), "usr/bin/id"), "/usr/bin/id"},
        {"kernel-payload",
         plus(good_tree(), file("boot/vmlinuz-6.6.1", "k")),
         "/boot/vmlinuz-6.6.1 is a kernel"},
        {"kernel-payload",
         plus(good_tree(), file("usr/lib/modules/6.6.1/kernel/x.ko", "m")),
         "/usr/lib/modules/6.6.1"},
        {"resolv-conf",
         plus(good_tree(), sym("etc/resolv.conf", "../run/resolv.conf")),
         "/etc/resolv.conf"},
        {"security-xattrs", plus(good_tree(), selinux), "security.selinux"},
        {"size", good_tree(), "more than 10 B", tiny_limit},
        {"wsl-conf-syntax",
         plus(good_tree(), file("etc/wsl.conf", "[boot]\nsytemd=true\n")),
         "[boot] sytemd"},
        {"wsl-conf-default-user",
         plus(good_tree(), file("etc/wsl.conf", "[user]\ndefault=bob\n")),
         "default=bob"},
    };
    for (const auto& c : cases)
    {
        DYNAMIC_SECTION(c.rule << ": " << c.needle)
        {
            Sandbox sb;
            const CheckReport report = check_members(sb, c.members, c.options);
            INFO(describe(report));
            const auto* f = finding(report, c.rule);
            REQUIRE(f != nullptr);
            CHECK_THAT(f->message, Contains(c.needle));
            CHECK_FALSE(f->hint.empty());
            // The rest of the image is fine: nothing else fires (password rules aside, whose
            // fixtures also trip their neighbours).
            const std::set<std::string> ids = fired(report);
            CHECK(ids.size() <= 2);
            CHECK_THAT(describe(report), !Contains("SECRETHASH"));
        }
    }
}

TEST_CASE("check judges the archive's compression by its name", "[check]")
{
    Sandbox sb;
    auto report = check_members(sb, good_tree(), {}, "image.wsl", "zstd");
    CHECK(fired(report) == std::set<std::string>{"wsl-compression"});
    CHECK(report.has_errors());
    CHECK(report.compression == "zstd");

    report = check_members(sb, good_tree(), {}, "plain.wsl", "none");
    CHECK(fired(report) == std::set<std::string>{"wsl-compression"});
    CHECK_THAT(report.findings.front().message, Contains("uncompressed"));

    report = check_members(sb, good_tree(), {}, "rootfs.tar", "none");
    CHECK(fired(report) == std::set<std::string>{"compression"});
    CHECK_FALSE(report.has_errors());

    report = check_members(sb, good_tree(), {}, "rootfs.tar.xz", "xz");
    CHECK(report.findings.empty());
}

TEST_CASE("wsl.conf may use every key WSL reads, and only those", "[check]")
{
    Sandbox sb;
    const auto known = check_members(
        sb,
        plus(
            good_tree(),
            file(
                "etc/wsl.conf",
                "[general]\nguiApplications=false\n[boot]\ninitTimeout=10000\n"
                "[fileServer]\nlogLevel=4\n[network]\ngenerateHosts=false\n")));
    CHECK_FALSE(fired(known).contains("wsl-conf-syntax"));
    // WSL's init has no [general] hostname ([network] hostname is the key).
    const auto unknown =
        check_members(sb, plus(good_tree(), file("etc/wsl.conf", "[general]\nhostname=x\n")));
    CHECK(fired(unknown).contains("wsl-conf-syntax"));
}

TEST_CASE("check finds a root tree packed inside a folder", "[check]")
{
    Sandbox sb;
    Members wrapped;
    for (Member m : good_tree())
    {
        if (m.name == "./")
        {
            continue;
        }
        m.name = "rootfs/" + m.name;
        wrapped.push_back(m);
    }
    const CheckReport report = check_members(sb, wrapped);
    // One finding explains it; the rules about the tree's content stay quiet.
    CHECK(fired(report) == std::set<std::string>{"root-at-top"});
    CHECK(report.findings.front().path == "rootfs");
    CHECK_THAT(report.findings.front().hint, Contains("tar -C rootfs"));
}

TEST_CASE("check refuses a tree that is not a root filesystem", "[check]")
{
    Sandbox sb;
    auto report = check_members(sb, {dir("usr"), file("usr/share/doc/x", "x")});
    CHECK(fired(report) == std::set<std::string>{"root-filesystem"});
    CHECK(report.has_errors());

    report = check_members(
        sb,
        {file("oci-layout", "{}"), file("index.json", "{}"), dir("blobs")},
        {},
        "image.tar",
        "gzip");
    REQUIRE(finding(report, "root-filesystem") != nullptr);
    CHECK_THAT(finding(report, "root-filesystem")->hint, Contains("OCI image layout"));
}

TEST_CASE("check resolves /bin/sh through absolute and merged-usr symlinks", "[check]")
{
    Sandbox sb;
    Members tree = replace(good_tree(), sym("bin", "/usr/bin"));
    tree = replace(tree, sym("usr/bin/sh", "/usr/./bin/../bin/dash"));
    auto report = check_members(sb, tree);
    INFO(describe(report));
    CHECK(report.findings.empty());

    // /bin/sh as a hard link of the shell.
    tree = replace(without(good_tree(), "usr/bin/sh"), hardlink("usr/bin/sh", "usr/bin/dash"));
    report = check_members(sb, tree);
    INFO(describe(report));
    CHECK(report.findings.empty());

    // /etc/os-release through an absolute link still counts.
    tree = replace(good_tree(), sym("etc/os-release", "/usr/lib/os-release"));
    CHECK(check_members(sb, tree).findings.empty());
}

TEST_CASE("check takes --default-uid and --arch", "[check]")
{
    Sandbox sb;
    const Members tree = replace(
        good_tree(),
        file("etc/passwd", "root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n"));
    CheckOptions options;
    options.default_uid = 1001;
    CHECK(check_members(sb, tree, options).findings.empty());

    options.arch = static_cast<unsigned char>(host_shell()[18]) == 183 ? "arm64" : "amd64";
    CHECK(check_members(sb, good_tree(), options).findings.empty());

    options.arch = "vax";
    try
    {
        check_members(sb, good_tree(), options);
        FAIL("an unknown architecture was accepted");
    }
    catch (const UserError& e)
    {
        CHECK(e.exit_code() == ExitCode::usage);
        CHECK_THAT(e.what(), Contains("vax"));
    }
}

TEST_CASE("check sums up a rule that fires on many members", "[check]")
{
    Sandbox sb;
    Members tree = good_tree();
    for (int i = 0; i < 30; ++i)
    {
        tree.push_back(file("/opt/f" + std::to_string(100 + i), "x"));
    }
    const CheckReport report = check_members(sb, tree);
    std::vector<std::string> paths;
    for (const auto& f : report.findings)
    {
        CHECK(f.rule == "absolute-path");
        paths.push_back(f.path);
    }
    REQUIRE(paths.size() == 21);
    CHECK(paths.front() == "/opt/f100");
    CHECK(std::is_sorted(paths.begin(), paths.end() - 1));
    CHECK_THAT(report.findings.back().message, Contains("10 more"));
}

TEST_CASE("check reports unusable input as a usage error naming the file", "[check]")
{
    Sandbox sb;
    const auto expect_usage = [](const fs::path& input, const std::string& needle)
    {
        try
        {
            check_image(input);
            FAIL("checked " << input);
        }
        catch (const UserError& e)
        {
            CHECK(e.exit_code() == ExitCode::usage);
            CHECK_THAT(e.what(), Contains(input.string()));
            CHECK_THAT(e.what(), Contains(needle, Catch::CaseSensitive::No));
        }
    };
    expect_usage(sb.path() / "missing.wsl", "no such file");
    expect_usage(sb.write("empty.wsl", ""), "empty");
    expect_usage(sb.write("text.wsl", std::string(2000, 'x')), "not a tar archive");
    const std::string gz = azl::test::tar_bytes(good_tree(), "gzip");
    expect_usage(sb.write("cut.wsl", gz.substr(0, gz.size() / 2)), "truncated");
}

TEST_CASE("check lists its rules with unique ids", "[check]")
{
    std::set<std::string_view> ids;
    for (const auto& rule : azl::rootfs::check_rules())
    {
        CHECK_FALSE(rule.id.empty());
        CHECK_FALSE(rule.summary.empty());
        CHECK(ids.insert(rule.id).second);
    }
    CHECK(ids.count("passwd-root") == 1);
    CHECK(ids.count("shell-elf") == 1);
    CHECK(azl::rootfs::severity_name(Severity::warning) == "warning");
}
