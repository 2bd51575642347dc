#pragma once

#include <azl/common/error.hpp>
#include <azl/oobe/layers.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace azl::oobe
{

// The only answers document version this program reads.
inline constexpr int kAnswersVersion = 1;

// What the first user may do with sudo.
enum class SudoMode
{
    password, // sudo asks for the user's password
    nopasswd, // sudo never asks
    none,     // no sudo rights, not in the admin group
};

// The first user's answers. A password is either a crypt(3) hash or plaintext (hashed here).
struct UserAnswers
{
    std::string name;
    std::uint32_t uid = 1000;
    std::string gecos;
    std::string shell = "/bin/bash";
    std::vector<std::string> groups; // supplementary groups besides the admin group; must exist
    SudoMode sudo = SudoMode::password;
    std::optional<std::string> password_hash;
    std::optional<std::string> password; // plaintext: accepted with a warning, never logged
    std::vector<std::string> ssh_authorized_keys;
};

// Proxy settings written for login shells and the package manager.
struct ProxyAnswers
{
    std::string http;
    std::string https;
    std::vector<std::string> no_proxy;
};

// One CA certificate to trust: inline PEM or a file inside the guest (e.g. under /mnt/c).
struct CaCertificate
{
    std::string name; // file name stem: [A-Za-z0-9._-]+
    std::string pem;  // inline PEM, or the content read from `file` at load time
    std::string file; // where the PEM came from, empty when inline
};

// One package repository; apt uses suite and components, rpm families ignore them.
struct Repository
{
    std::string name;
    std::string url;
    std::string suite;
    std::vector<std::string> components;
    std::string gpg_key_file; // guest path of the signing key; empty: the system's keys
};

// One file to write (cloud-init's write_files): its bytes, mode and owner; appended or replaced;
// written early (before the user exists) or deferred until after the user and packages.
struct FileAnswers
{
    std::string path;           // absolute guest path
    std::string content;        // the bytes to write (from "content" or "content_base64")
    unsigned mode = 0644;       // from "permissions", an octal string such as "0640"
    std::string owner = "root"; // user name, or numeric uid
    std::string group = "root"; // group name, or numeric gid
    bool append = false;        // add to the end of the file instead of replacing it
    bool defer = false;         // write after the user and packages steps
};

// Azure bridge options, written to /etc/azurelinux/bridge.conf.
struct BridgeAnswers
{
    bool enabled = true;
    std::optional<std::uint32_t> idle_timeout;
    std::string host_az;
    std::string tenant;
    std::optional<bool> ssh_agent; // [ssh-agent] enabled: the Windows ssh-agent in the guest
    std::optional<bool> gpg_agent; // [gpg-agent] enabled: the Windows GnuPG agent in the guest
    std::optional<bool> gcm;       // [gcm] enabled: Git Credential Manager as git's helper
};

// Whether the launcher's sync carries the host's certificates and proxy (host-sync.conf).
struct HostSyncAnswers
{
    bool certificates = true;
    bool proxy = true;
};

// The whole answers document (version 1). Absent sections are left as the image has them.
struct Answers
{
    std::optional<UserAnswers> user;
    std::optional<std::string> hostname;
    std::optional<std::string> locale;
    std::optional<std::string> timezone;
    std::optional<ProxyAnswers> proxy;
    std::vector<CaCertificate> ca_certificates;
    std::vector<Repository> repositories;
    std::vector<std::string> packages;
    bool package_update = false;  // refresh the package lists (also done before installing)
    bool package_upgrade = false; // upgrade every installed package
    std::vector<FileAnswers> files;
    std::optional<bool> systemd;
    std::optional<BridgeAnswers> bridge;
    std::optional<HostSyncAnswers> host_sync;
    std::vector<std::string> run; // shell command lines, run last as root with /bin/sh -c
};

// A problem with the answers document; the message names the origin and the JSON path.
class AnswersError : public UserError
{
public:
    // `origin` is the file (or "answers"), `path` a JSON pointer such as /user/name.
    AnswersError(std::string_view origin, std::string_view path, std::string_view problem);
};

// Parses and validates an answers document: version, known keys only, types, formats. Reads the
// CA files it names. Throws AnswersError naming the first problem's JSON path; changes nothing.
Answers parse_answers(std::string_view text, std::string_view origin);

// Validates merged layers as parse_answers does one document; an error names the layer that set
// the failing key.
Answers parse_answers(const MergedAnswers& merged);

// Whether `key` is a top-level key of the answers document.
bool is_answers_key(std::string_view key);

// Why `name` cannot be a new user name by its form alone (empty when it can): pattern, length,
// reserved names. Existing users and groups are checked by the UserDatabase.
std::string username_problem(std::string_view name);

// Lower-cases and strips a Windows user name into a valid Linux user name; empty when nothing
// usable remains.
std::string suggest_username(std::string_view windows_name);

// Whether `text` looks like a crypt(3) hash this system can verify ($y$, $6$, $5$, $2b$, …).
bool is_crypt_hash(std::string_view text);

// The SHA-256 of the document's canonical form, hex; identifies the answers in the state file.
std::string answers_digest(std::string_view text);

} // namespace azl::oobe
