#pragma once
// What a backup carries beside it in FILE.json: the distribution's settings that `wsl --export`
// (and a plain tar of the root) leave out — the default user and the WSL flags — so that restore
// gives back the distribution as it was, not one that logs in as root.

#include <azl/launcher/backend.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace azl::launcher
{

// The settings of one backed-up distribution.
struct BackupConfig
{
    std::uint32_t default_uid = 0;
    DistroFlags flags;
    std::optional<std::string> default_user; // for people reading the file; the uid is what counts
    bool setup_pending = false; // sealed (azurelinux seal): each restored copy runs first-run setup
};

// FILE.json for the backup FILE.
std::filesystem::path backup_config_path(const std::filesystem::path& backup);

// Writes FILE.json (atomically, 0644: it holds no secret).
void write_backup_config(const std::filesystem::path& backup, const BackupConfig& config);

// Reads FILE.json when it exists; nullopt when it does not. Throws UserError naming the file when
// it is not a backup settings file of a version we know.
std::optional<BackupConfig> read_backup_config(const std::filesystem::path& backup);

} // namespace azl::launcher
