// The rules `image check` applies to WSL's modern format, on images whose WSL files come from the
// packaging library: a good image passes, and breaking each rule on purpose fires that rule.

#include "archive_builder.hpp"
#include "test_support.hpp"

#include <azl/packaging/assets.hpp>
#include <azl/packaging/wsl_config.hpp>
#include <azl/rootfs/check.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using azl::rootfs::check_image;
using azl::rootfs::CheckOptions;
using azl::rootfs::CheckReport;
using azl::test::dir;
using azl::test::file;
using azl::test::host_elf;
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

std::string foreign_elf()
{
    std::string elf = host_elf();
    elf[18] = static_cast<char>(static_cast<unsigned char>(elf[18]) == 183 ? 62 : 183);
    elf[19] = 0;
    return elf;
}

Member conf_file(const std::string& text)
{
    return file("etc/wsl-distribution.conf", text);
}

std::string good_conf()
{
    return azl::packaging::render_distribution_conf({});
}

// A small root filesystem plus the WSL files `image build` adds, all as WSL wants them.
Members modern_tree()
{
    return {
        dir("./"),
        dir("etc"),
        file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        file("etc/group", "root:x:0:\n"),
        file("etc/shadow", "root:*:19000:0:99999:7:::\n", 0640),
        file("etc/os-release", "ID=azurelinux\nVERSION_ID=\"4.0\"\n"),
        conf_file(good_conf()),
        file("etc/wsl.conf", azl::packaging::render_wsl_conf(azl::packaging::SystemdBoot::off)),
        dir("usr"),
        dir("usr/bin"),
        file("usr/bin/dash", host_elf(), 0755),
        sym("usr/bin/sh", "dash"),
        file("usr/bin/id", "id", 0755),
        sym("bin", "usr/bin"),
        dir("usr/lib"),
        dir("usr/lib/wsl"),
        file("usr/lib/wsl/azurelinux-oobe", host_elf(), 0755),
        file("usr/lib/wsl/terminal-profile.json", azl::packaging::render_terminal_profile(), 0640),
        dir("usr/share"),
        dir("usr/share/wsl"),
        file("usr/share/wsl/azurelinux.ico", azl::packaging::icon_ico()),
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
    std::erase_if(members, [&](const Member& m) { return m.name == name; });
    return members;
}

Members plus(Members members, const Member& m)
{
    members.push_back(m);
    return members;
}

Member owned(Member m, std::uint32_t uid)
{
    m.uid = uid;
    return m;
}

std::string conf_with(const std::string& from, const std::string& to)
{
    std::string text = good_conf();
    const auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
    return text;
}

CheckReport check(const Members& members, const CheckOptions& options = {})
{
    Sandbox sb;
    const fs::path archive = sb.path() / "AzureLinux.wsl";
    write_tar(archive, members, "gzip");
    return check_image(archive, options);
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

std::set<std::string> fired(const CheckReport& report)
{
    std::set<std::string> ids;
    for (const auto& f : report.findings)
    {
        ids.insert(f.rule);
    }
    return ids;
}

} // namespace

TEST_CASE("a modern image with the packaging's WSL files passes every rule", "[check][wsl]")
{
    const CheckReport report = check(modern_tree());
    INFO(describe(report));
    CHECK(report.findings.empty());
}

TEST_CASE("each WSL rule fires on its own when broken", "[check][wsl]")
{
    struct Case
    {
        std::string rule;
        Members members;
        std::string needle;
        CheckOptions options{};
    };

    CheckOptions foreign_arch;
    foreign_arch.arch = static_cast<unsigned char>(host_elf()[18]) == 183 ? "x86_64" : "aarch64";
    const std::vector<Case> cases = {
        {"distribution-conf-file",
         replace(modern_tree(), file("etc/wsl-distribution.conf", good_conf(), 0600)),
         "mode 0600"},
        {"distribution-conf-file",
         replace(modern_tree(), owned(conf_file(good_conf()), 1000)),
         "owner 1000:0"},
        {"distribution-conf-keys",
         replace(modern_tree(), conf_file(good_conf() + "[oobe]\nfoo = bar\n")),
         "WSL does not know [oobe] foo"},
        {"distribution-conf-keys",
         replace(
             modern_tree(),
             conf_file(conf_with("[shortcut]\nenabled = true", "[shortcut]\nenabled = maybe"))),
         "is not a boolean"},
        {"oobe-command",
         without(modern_tree(), "usr/lib/wsl/azurelinux-oobe"),
         "is not in the image"},
        {"oobe-command",
         replace(modern_tree(), file("usr/lib/wsl/azurelinux-oobe", host_elf(), 0700)),
         "mode 0700"},
        {"oobe-command",
         replace(modern_tree(), owned(file("usr/lib/wsl/azurelinux-oobe", host_elf(), 0755), 5)),
         "owner uid 5"},
        {"oobe-command",
         replace(
             modern_tree(), conf_file(conf_with("/usr/lib/wsl/azurelinux-oobe", "/usr/bin/dash"))),
         "not a file under /usr/lib/wsl/ or /usr/libexec/wsl/"},
        {"oobe-command",
         replace(modern_tree(), conf_file(conf_with("azurelinux-oobe", "azurelinux-oobe --x"))),
         "has arguments"},
        {"oobe-command",
         replace(modern_tree(), file("usr/lib/wsl/azurelinux-oobe", foreign_elf(), 0755)),
         "the first-run program /usr/lib/wsl/azurelinux-oobe is built for"},
        {"oobe-default-uid",
         replace(modern_tree(), conf_file(conf_with("defaultUid = 1000\n", ""))),
         "no defaultUid"},
        {"oobe-default-uid",
         replace(modern_tree(), conf_file(conf_with("defaultUid = 1000", "defaultUid = bob"))),
         "is not a number"},
        {"oobe-default-name",
         replace(
             modern_tree(),
             conf_file(conf_with("defaultName = AzureLinux", "defaultName = Azure Linux"))),
         "is not a name WSL takes"},
        {"oobe-default-name",
         replace(modern_tree(), conf_file(conf_with("defaultName = AzureLinux\n", ""))),
         "no defaultName"},
        {"shortcut-icon",
         replace(
             modern_tree(), file("usr/share/wsl/azurelinux.ico", azl::packaging::icon_ico(), 0600)),
         "mode 0600"},
        {"shortcut-icon",
         replace(modern_tree(), file("usr/share/wsl/azurelinux.ico", "not an icon at all")),
         "is not a Windows icon"},
        {"shortcut-icon",
         replace(
             modern_tree(),
             file("usr/share/wsl/azurelinux.ico", std::string(1U << 20U, 'x') + "y")),
         "WSL refuses files over 1048576 bytes"},
        {"shortcut-icon",
         without(modern_tree(), "usr/share/wsl/azurelinux.ico"),
         "is not in the image"},
        {"shortcut-icon",
         replace(
             modern_tree(), conf_file(conf_with("/usr/share/wsl/azurelinux.ico", "/opt/icon.ico"))),
         "not a file under /usr/lib/wsl/ or /usr/share/wsl/"},
        {"terminal-profile",
         replace(
             modern_tree(),
             file(
                 "usr/lib/wsl/terminal-profile.json",
                 azl::packaging::render_terminal_profile(),
                 0644)),
         "mode 0644"},
        {"terminal-profile",
         replace(
             modern_tree(), file("usr/lib/wsl/terminal-profile.json", "{\"profile\": []}", 0640)),
         "\"profiles\" array"},
        {"terminal-profile",
         replace(
             modern_tree(),
             file("usr/lib/wsl/terminal-profile.json", "// hi\n{\"profiles\": []}", 0640)),
         "no comments"},
        {"wsl-conf-file",
         replace(modern_tree(), file("etc/wsl.conf", "[boot]\ncommand = true\n", 0600)),
         "mode 0600"},
        {"systemd-units",
         plus(
             plus(modern_tree(), dir("etc/systemd/system/multi-user.target.wants")),
             sym("etc/systemd/system/multi-user.target.wants/systemd-resolved.service",
                 "/usr/lib/systemd/system/systemd-resolved.service")),
         "systemd-resolved.service is enabled"},
        {"wsl-conf-default-user",
         replace(modern_tree(), file("etc/wsl.conf", "[user]\ndefault = bob\n")),
         "default=bob"},
        {"oobe-command", modern_tree(), "but the image is for", foreign_arch},
    };
    // One pass over the cases (not a section each: building the trees is the slow part).
    for (const auto& c : cases)
    {
        INFO(c.rule << ": " << c.needle);
        const CheckReport report = check(c.members, c.options);
        INFO(describe(report));
        const auto it = std::find_if(
            report.findings.begin(),
            report.findings.end(),
            [&](const auto& f) { return f.rule == c.rule; });
        REQUIRE(it != report.findings.end());
        CHECK_THAT(it->message, Contains(c.needle));
        CHECK_FALSE(it->hint.empty());
        // Only this rule fires (the foreign-arch case also trips shell-elf, by design).
        CHECK(fired(report).size() <= (c.options.arch ? 2U : 1U));
    }
}

TEST_CASE("a masked unit is not reported, disabled sections are not checked", "[check][wsl]")
{
    Members tree = plus(
        plus(modern_tree(), dir("etc/systemd/system/multi-user.target.wants")),
        sym("etc/systemd/system/multi-user.target.wants/tmp.mount",
            "/usr/lib/systemd/system/tmp.mount"));
    tree = plus(tree, sym("etc/systemd/system/tmp.mount", "/dev/null"));
    CHECK(check(tree).findings.empty());

    // [shortcut] enabled = false: the icon is not looked at.
    const Members no_shortcut = without(
        replace(
            modern_tree(),
            conf_file(conf_with("[shortcut]\nenabled = true", "[shortcut]\nenabled = false"))),
        "usr/share/wsl/azurelinux.ico");
    const CheckReport report = check(no_shortcut);
    INFO(describe(report));
    CHECK(report.findings.empty());
}
