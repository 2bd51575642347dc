#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// Where first-run setup keeps its progress between runs (/var/lib/azurelinux-oobe/state.json).
struct State
{
    std::string answers_digest;         // of the answers the steps below were done with
    std::vector<std::string> completed; // step ids, in the order they finished
    std::string creating_user;          // set while the user step runs: a leftover means a kill
    bool finished = false;              // every step done

    // Reads the state; a missing file is a fresh state. Throws UserError for a corrupt file.
    static State load(const std::filesystem::path& path);
    // Writes it atomically, 0600, creating the directory (0755: status.json beside it is public).
    void save(const std::filesystem::path& path) const;

    // Whether step `id` finished.
    [[nodiscard]] bool done(std::string_view id) const;
    // Records step `id` as finished.
    void mark_done(std::string_view id);
};

} // namespace azl::oobe
