#pragma once
// Reading and changing a distribution's files and users through Backend launches only, so it works
// the same through WSL and in the sandbox (WSL's own `--set-default-user` runs `id -u` inside too).

#include <azl/common/fs.hpp>
#include <azl/launcher/backend.hpp>
#include <azl/launcher/commands.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace azl::launcher::guest
{

// Throws UserError (with a hint) unless `name` is a valid, registered distribution name.
void require_registered(Backend& backend, const std::string& name);

// The content of a guest file read as root; nullopt when it does not exist.
std::optional<std::string>
read_file(Backend& backend, const std::string& name, const std::string& path);

// Replaces a guest file as root, atomically (temp file + mv), root:root 0644.
void write_file(
    Backend& backend, const std::string& name, const std::string& path, const std::string& content);

// The uid of guest user `user`; nullopt when there is no such user.
std::optional<std::uint32_t>
uid_of(Backend& backend, const std::string& name, const std::string& user);

// The name of guest uid `uid`; nullopt when no user has it.
std::optional<std::string> user_of(Backend& backend, const std::string& name, std::uint32_t uid);

// [oobe] command and defaultUid of the guest's /etc/wsl-distribution.conf.
struct OobeConfig
{
    std::optional<std::string> command;
    std::optional<std::uint32_t> default_uid;
};

// Reads them; UserError when defaultUid is not a number.
OobeConfig read_oobe_config(Backend& backend, const std::string& name);

} // namespace azl::launcher::guest

namespace azl::launcher
{

// The arguments that give the guest's first-run command its answers, to append to its command
// line, and the file to share with the launch (LaunchSpec::answers_file).
struct FirstRunAnswers
{
    std::string args;
    std::optional<std::filesystem::path> file;
};

// " --host-layers FILE" (the Windows side's layers, `answers` among them, in a private file that
// lives in `holder`) when the guest's first-run program takes them, else " --answers FILE", else
// nothing. Defined in install.cpp.
FirstRunAnswers first_run_answers(
    Backend& backend,
    const std::string& name,
    const std::string& command,
    const std::optional<std::filesystem::path>& answers,
    std::optional<TempDir>& holder,
    const CommandEnv& env);

} // namespace azl::launcher
