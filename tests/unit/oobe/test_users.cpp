#include <azl/oobe/answers.hpp>
#include <azl/oobe/users.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <array>
#include <filesystem>
#include <string>
#include <test_support.hpp>

using namespace azl::oobe;

TEST_CASE("user names: the form a new user's name must have", "[oobe]")
{
    struct Row
    {
        std::string name;
        std::string problem; // substring of the message; empty: valid
    };

    const auto rows = std::to_array<Row>({
        {"dev", ""},
        {"_svc", ""},
        {"a-b_c9", ""},
        {std::string(32, 'a'), ""},
        {"", "empty"},
        {std::string(33, 'a'), "longer than 32"},
        {"Dev", "must start with a lower-case letter"},
        {"1dev", "must start with a lower-case letter"},
        {"-dev", "must start with a lower-case letter"},
        {"de.v", "may contain only lower-case letters"},
        {"de v", "may contain only lower-case letters"},
        {"deV", "may contain only lower-case letters"},
        {"dév", "may contain only lower-case letters"},
        {"root", "reserved"},
        {"daemon", "reserved"},
        {"wheel", "reserved"},
        {"nobody", "reserved"},
    });
    for (const auto& row : rows)
    {
        INFO("name: \"" << row.name << "\"");
        const auto problem = username_problem(row.name);
        if (row.problem.empty())
        {
            CHECK(problem.empty());
        }
        else
        {
            CHECK_THAT(problem, Catch::Contains(row.problem));
        }
    }
}

TEST_CASE("user names: existing users and groups are taken", "[oobe]")
{
    const auto db = UserDatabase::parse(
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n",
        "root:x:0:\nsudo:x:27:alice\nalice:x:1000:\ndocker:x:999:\n");
    CHECK_THAT(
        new_username_problem("alice", db),
        Catch::Contains("a user named \"alice\" already exists"));
    CHECK_THAT(
        new_username_problem("docker", db),
        Catch::Contains("a group named \"docker\" already exists"));
    CHECK_THAT(new_username_problem("Bob", db), Catch::Contains("lower-case"));
    CHECK(new_username_problem("bob", db).empty());
    REQUIRE(db.user_by_uid(1000));
    CHECK(db.user_by_uid(1000)->name == "alice");
    CHECK(db.user("alice")->home == "/home/alice");
    CHECK(db.group_members("sudo") == std::vector<std::string>{"alice"});
    CHECK_FALSE(db.user_by_uid(1001));
}

TEST_CASE("user names: a suggestion from the Windows user name", "[oobe]")
{
    CHECK(suggest_username("JaneDoe") == "janedoe");
    CHECK(suggest_username("Jane.Doe") == "janedoe");
    CHECK(suggest_username("John Smith") == "johnsmith");
    CHECK(suggest_username("42dev") == "dev");
    CHECK(suggest_username("Administrator") == "administrator");
    CHECK(suggest_username("Root").empty()); // reserved: no suggestion rather than a bad one
    CHECK(suggest_username("1234").empty());
    CHECK(suggest_username(std::string(40, 'x')) == std::string(32, 'x'));
}

TEST_CASE("account lock files no running account tool holds are removed", "[users]")
{
    const azl::test::Sandbox box;
    // A killed useradd's lock naming a PID that is now another process (ours), one naming no
    // process, one with garbage; an unrelated file stays.
    box.write("etc/passwd.lock", std::to_string(::getpid()));
    box.write("etc/group.lock", "4194304");
    box.write("etc/shadow.lock", "not a pid");
    box.write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    const auto removed = azl::oobe::clear_stale_account_locks(box.path() / "etc");
    CHECK(removed.size() == 3);
    CHECK_FALSE(std::filesystem::exists(box.path() / "etc/passwd.lock"));
    CHECK_FALSE(std::filesystem::exists(box.path() / "etc/group.lock"));
    CHECK_FALSE(std::filesystem::exists(box.path() / "etc/shadow.lock"));
    CHECK(std::filesystem::exists(box.path() / "etc/passwd"));
    CHECK(azl::oobe::clear_stale_account_locks(box.path() / "etc").empty());
}
