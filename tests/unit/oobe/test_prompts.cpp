#include <azl/oobe/prompter.hpp>
#include <azl/oobe/users.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

using namespace azl::oobe;

namespace
{

// A person typing the given lines; records everything shown to them.
class ScriptedPrompter final : public Prompter
{
public:
    explicit ScriptedPrompter(std::deque<std::string> typed)
        : m_typed(std::move(typed))
    {
    }

    void say(std::string_view line) override
    {
        shown.emplace_back(line);
    }

    std::string ask(std::string_view question, std::string_view suggestion) override
    {
        shown.push_back(std::string(question) + " [" + std::string(suggestion) + "]");
        auto answer = next();
        return answer.empty() ? std::string(suggestion) : answer;
    }

    std::string ask_secret(std::string_view question) override
    {
        shown.emplace_back(question);
        return next();
    }

    std::vector<std::string> shown;

private:
    std::string next()
    {
        REQUIRE_FALSE(m_typed.empty());
        auto line = m_typed.front();
        m_typed.pop_front();
        return line;
    }

    std::deque<std::string> m_typed;
};

bool shown_contains(const std::vector<std::string>& shown, const std::string& text)
{
    return std::any_of(
        shown.begin(),
        shown.end(),
        [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

} // namespace

TEST_CASE("interactive: the user name is asked again until it is valid", "[oobe]")
{
    const auto db =
        UserDatabase::parse("alice:x:1000:1000::/home/alice:/bin/bash\n", "alice:x:1000:\n");
    ScriptedPrompter p({"Bad Name", "root", "alice", "bob"});
    CHECK(prompt_username(p, db, "") == "bob");
    CHECK(shown_contains(p.shown, "\"Bad Name\" must start with a lower-case letter"));
    CHECK(shown_contains(p.shown, "\"root\" is reserved"));
    CHECK(shown_contains(p.shown, "\"alice\" already exists"));
}

TEST_CASE("interactive: an empty answer takes the suggestion", "[oobe]")
{
    const auto db = UserDatabase::parse("", "");
    ScriptedPrompter p({""});
    CHECK(prompt_username(p, db, "janedoe") == "janedoe");
    CHECK(shown_contains(p.shown, "[janedoe]"));
}

TEST_CASE("interactive: the password is asked twice until both match and are not empty", "[oobe]")
{
    ScriptedPrompter p({"", "one", "two", "s3cret", "s3cret"});
    CHECK(prompt_password(p, "bob") == "s3cret");
    CHECK(shown_contains(p.shown, "The password is empty"));
    CHECK(shown_contains(p.shown, "The passwords do not match"));
    for (const auto& line : p.shown)
    {
        CHECK(line.find("s3cret") == std::string::npos); // never shown back
    }
}
