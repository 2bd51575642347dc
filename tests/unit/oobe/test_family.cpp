#include <azl/common/error.hpp>
#include <azl/oobe/family.hpp>

#include <catch2/catch.hpp>

using namespace azl::oobe;

TEST_CASE("os-release: the family comes from ID, then ID_LIKE", "[oobe]")
{
    const auto azl =
        OsRelease::parse("NAME=\"Microsoft Azure Linux\"\nVERSION=\"3.0.20240727\"\nID=azurelinux\n"
                         "VERSION_ID=\"3.0\"\nPRETTY_NAME=\"Microsoft Azure Linux 3.0\"\n");
    CHECK(azl.id == "azurelinux");
    CHECK(azl.version_id == "3.0");
    CHECK(azl.display_name() == "Microsoft Azure Linux 3.0");
    CHECK(detect_family(azl) == Family::rpm);

    const auto debian = OsRelease::parse(
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
        "VERSION_ID=\"12\"\nID=debian\n");
    CHECK(detect_family(debian) == Family::debian);

    CHECK(detect_family(OsRelease::parse("ID=ubuntu\nID_LIKE=debian\n")) == Family::debian);
    CHECK(detect_family(OsRelease::parse("ID=mariner\nVERSION_ID=2.0\n")) == Family::rpm);
    CHECK(
        detect_family(OsRelease::parse("ID=rocky\nID_LIKE=\"rhel centos fedora\"\n"))
        == Family::rpm);
    CHECK(detect_family(OsRelease::parse("ID=pop\nID_LIKE=\"ubuntu debian\"\n")) == Family::debian);
    CHECK(OsRelease::parse("NAME=Thing\nVERSION_ID=7\n").display_name() == "Thing 7");
    CHECK_THROWS_AS(detect_family(OsRelease::parse("ID=arch\n")), azl::UserError);
    CHECK_THROWS_WITH(detect_family(OsRelease::parse("ID=alpine\n")), Catch::Contains("ID=alpine"));
}

TEST_CASE("family facts: one table for the tools and paths of each family", "[oobe]")
{
    const auto& rpm = facts_for(Family::rpm);
    CHECK(rpm.admin_group == "wheel");
    CHECK(rpm.ca_anchor_dir == "/etc/pki/ca-trust/source/anchors");
    CHECK(rpm.ca_update.front() == "update-ca-trust");
    CHECK(rpm.package_install.front() == "tdnf");
    CHECK(rpm.package_query.front() == "rpm");
    CHECK(rpm.repo_dir == "/etc/yum.repos.d");
    CHECK(rpm.locale_file == "/etc/locale.conf");
    CHECK_FALSE(rpm.writes_etc_timezone);

    const auto& deb = facts_for(Family::debian);
    CHECK(deb.admin_group == "sudo");
    CHECK(deb.ca_anchor_dir == "/usr/local/share/ca-certificates");
    CHECK(deb.ca_anchor_suffix == ".crt"); // update-ca-certificates ignores other names
    CHECK(deb.ca_update == std::vector<std::string_view>{"update-ca-certificates"});
    CHECK(deb.package_install.front() == "apt-get");
    CHECK(deb.package_proxy_file.starts_with("/etc/apt/apt.conf.d/"));
    CHECK(deb.repo_dir == "/etc/apt/sources.list.d");
    CHECK(deb.locale_file == "/etc/default/locale");
    CHECK(deb.writes_etc_timezone);
}
