#pragma once

#include <azl/common/passwd.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// The users and groups of /etc/passwd and /etc/group, read once.
class UserDatabase
{
public:
    // One /etc/passwd entry.
    using User = PasswdEntry;

    // Parses passwd(5) and group(5) text.
    static UserDatabase parse(std::string_view passwd, std::string_view group);
    // Reads ETC/passwd and ETC/group.
    static UserDatabase load(const std::filesystem::path& etc = "/etc");

    // The user called `name`, if any.
    [[nodiscard]] std::optional<User> user(std::string_view name) const;
    // The user with `uid`, if any.
    [[nodiscard]] std::optional<User> user_by_uid(std::uint32_t uid) const;
    // Whether a group called `name` exists.
    [[nodiscard]] bool has_group(std::string_view name) const;
    // The members listed for group `name` in /etc/group.
    [[nodiscard]] std::vector<std::string> group_members(std::string_view name) const;

private:
    struct Group
    {
        std::string name;
        std::vector<std::string> members;
    };

    std::vector<User> m_users;
    std::vector<Group> m_groups;
};

// Why `name` cannot be the new user's name (empty when it can): its form (username_problem) or a
// user or group of that name already existing.
std::string new_username_problem(std::string_view name, const UserDatabase& db);

// Removes the lock files (passwd.lock, group.lock, ...) in `etc` that no running account tool
// holds: a useradd killed mid-way leaves its lock, and the PID in it can name another process by
// the next run (a new pid namespace counts from 1), which shadow's tools take for the holder, so
// every later account change would fail with "cannot lock; try again later". Returns what it
// removed.
std::vector<std::filesystem::path> clear_stale_account_locks(const std::filesystem::path& etc);

} // namespace azl::oobe
