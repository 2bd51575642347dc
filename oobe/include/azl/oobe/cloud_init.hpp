#pragma once
// cloud-init user-data without cloud-init: the files cloud-init's WSL datasource reads from the
// Windows user's profile (%USERPROFILE%\.cloud-init\), in its order, and the translation of the
// #cloud-config subset that makes sense on WSL into a layer of first-run answers.

#include <azl/oobe/family.hpp>
#include <azl/oobe/layers.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// The file names cloud-init's WSL datasource looks for, most specific first: <instance>.user-data
// (the WSL distribution name), <ID>-<VERSION_ID>.user-data (VERSION_CODENAME when there is no
// VERSION_ID), <ID>-all.user-data, default.user-data. A candidate whose parts are unknown is left
// out.
std::vector<std::string> cloud_init_candidates(std::string_view instance, const OsRelease& os);

// The first candidate present in `profile`/.cloud-init, names compared case-insensitively (as the
// datasource does: Windows names are case-insensitive). nullopt when there is none.
std::optional<std::filesystem::path> find_cloud_init_user_data(
    const std::filesystem::path& profile, std::string_view instance, const OsRelease& os);

// What the translation needs to know about the guest.
struct CloudConfigTarget
{
    Family family = Family::rpm;  // apt sources apply to Debian-like guests, yum_repos to rpm ones
    std::string release_codename; // replaces $RELEASE in apt source lines
    // Whether a group exists in the image: cloud-init creates missing groups, first-run setup
    // leaves them out of the user's groups with a note. Empty: every group exists.
    std::function<bool(std::string_view)> group_exists;
};

// This guest's target: the family of `os`, its code name, and /etc/group for the groups.
CloudConfigTarget guest_cloud_config_target(const OsRelease& os);

// Translates one user-data file into a cloud-init layer whose document is an answers document
// ("version": 1). A #cloud-config document is translated key by key; every key (and sub-key) it
// does not use is named in the layer's `ignored` notes. Any other kind of user-data (a shell
// script, #include, MIME multipart, a Jinja template, compressed data) gives an empty layer whose
// note says why it is not used. Throws AnswersError naming `origin` and the line for YAML that
// does not parse or a value of the wrong type.
Layer translate_cloud_config(
    std::string origin, std::string_view text, const CloudConfigTarget& target);

// Finds and translates the user-data under `profile` (the guest path of %USERPROFILE%) for WSL
// instance `instance` of the distribution `os`; nullopt when there is no file.
std::optional<Layer> cloud_init_layer(
    const std::filesystem::path& profile,
    std::string_view instance,
    const OsRelease& os,
    const CloudConfigTarget& target);

// `azurelinux-oobe cloud-init FILE`: translates FILE for this guest (guest_cloud_config_target of
// /etc/os-release) and validates the answers it gives, changing nothing. Returns what to print:
// each value (secrets as "(set)") and each ignored key, as text or one JSON document. Throws
// AnswersError for YAML that does not parse or answers that are not valid.
std::string preview_cloud_init(const std::filesystem::path& file, bool json);

} // namespace azl::oobe
