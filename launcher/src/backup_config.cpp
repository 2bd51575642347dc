#include "backup_config.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <system_error>

namespace azl::launcher
{

namespace
{

constexpr int kVersion = 1;

} // namespace

std::filesystem::path backup_config_path(const std::filesystem::path& backup)
{
    std::filesystem::path out = backup;
    out += ".json";
    return out;
}

void write_backup_config(const std::filesystem::path& backup, const BackupConfig& config)
{
    const nlohmann::json j = {
        {"version", kVersion},
        {"default_uid", config.default_uid},
        {"default_user", config.default_user ? nlohmann::json(*config.default_user) : nullptr},
        {"setup_pending", config.setup_pending},
        {"flags",
         {{"interop", config.flags.interop},
          {"append_path", config.flags.append_path},
          {"mount_drives", config.flags.mount_drives}}}};
    write_file_atomic(backup_config_path(backup), j.dump(2) + "\n", 0644);
}

std::optional<BackupConfig> read_backup_config(const std::filesystem::path& backup)
{
    const std::filesystem::path file = backup_config_path(backup);
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
    {
        return std::nullopt;
    }
    const std::string name = path_to_utf8(file);
    const auto bad = [&name](const std::string& problem)
    {
        return UserError(
            fmt::format("{}: {}", name, problem),
            "fix it, or remove it to restore with root as the default user");
    };
    nlohmann::json j;
    try
    {
        j = nlohmann::json::parse(read_file(file, 1U << 20U));
    }
    catch (const nlohmann::json::exception& e)
    {
        throw bad(fmt::format("not JSON ({})", e.what()));
    }
    try
    {
        if (!j.is_object() || j.at("version").get<int>() != kVersion)
        {
            throw bad(fmt::format("not a backup settings file of version {}", kVersion));
        }
        BackupConfig c;
        const nlohmann::json& uid = j.at("default_uid");
        if (!uid.is_number_unsigned() || uid.get<std::uint64_t>() > 0xFFFFFFFEULL)
        {
            throw bad("default_uid is not a user id");
        }
        c.default_uid = uid.get<std::uint32_t>();
        const nlohmann::json& flags = j.at("flags");
        c.flags.interop = flags.at("interop").get<bool>();
        c.flags.append_path = flags.at("append_path").get<bool>();
        c.flags.mount_drives = flags.at("mount_drives").get<bool>();
        c.setup_pending = j.value("setup_pending", false); // absent in older backups
        if (j.contains("default_user") && j.at("default_user").is_string())
        {
            c.default_user = j.at("default_user").get<std::string>();
        }
        return c;
    }
    catch (const nlohmann::json::exception& e)
    {
        throw bad(fmt::format("unexpected content ({})", e.what()));
    }
}

} // namespace azl::launcher
