#pragma once
// Reading a guest's files from the host without trusting them: paths resolve inside the guest's
// root (openat2 RESOLVE_IN_ROOT), so a guest symlink such as /etc/passwd -> /host/secret cannot
// make the launcher (often root) read a host file. Plus the passwd/group lookups launches need.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace azl::launcher::sandbox
{

// The content of `guest_path` (absolute inside the guest) under `root`; nullopt when it does not
// exist. Throws UserError for other failures or files over 4 MiB.
std::optional<std::string>
read_guest_file(const std::filesystem::path& root, const std::string& guest_path);

// One /etc/passwd entry.
struct GuestUser
{
    std::string name;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::string home;
    std::string shell;
    std::vector<std::uint32_t> groups; // supplementary groups from /etc/group
};

// Looks a user up by name, or by number when `user` is all digits (like `id`); nullopt: none.
std::optional<GuestUser>
find_guest_user(const std::filesystem::path& root, const std::string& user);

// Looks a uid up; nullopt when no entry has it.
std::optional<GuestUser> find_guest_uid(const std::filesystem::path& root, std::uint32_t uid);

} // namespace azl::launcher::sandbox
