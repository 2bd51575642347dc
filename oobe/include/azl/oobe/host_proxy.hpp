#pragma once
// The proxy written where each tool of the guest looks for it: login shells (/etc/profile.d, upper
// and lower case), /etc/environment, the package manager (apt, tdnf, dnf), git's system config,
// npm's and pip's global config. The same writer serves the answers' proxy (first-run setup) and
// the host's (sync); settings of ours that are no longer wanted are removed, nothing else is.

#include <azl/oobe/family.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace azl::oobe
{

// The proxy every tool should use.
struct ProxySettings
{
    std::string http;                  // for http:// URLs; may be empty
    std::string https;                 // for https:// URLs; may be empty
    std::vector<std::string> no_proxy; // hosts, .domains, addresses that go direct
};

// `no_proxy` with localhost, 127.0.0.1 and ::1 added when missing (the order kept, duplicates
// dropped): a proxy must never see the guest's own loopback traffic.
std::vector<std::string> merge_no_proxy(const std::vector<std::string>& no_proxy);

// One configuration file and what it should hold.
struct ConfigEdit
{
    std::filesystem::path path;
    std::string content; // the whole new text
    bool remove = false; // the file is ours alone and no longer wanted
};

// The new text of each proxy file of `facts`'s family below `root` for `proxy` (nullopt: remove
// our settings), computed from each file's current text. Only files that change are returned.
// Throws UserError naming a file that cannot be parsed.
std::vector<ConfigEdit> proxy_config_edits(
    const FamilyFacts& facts,
    const std::optional<ProxySettings>& proxy,
    const std::filesystem::path& root = "/");

// Writes the edits atomically (0644); returns the paths changed.
std::vector<std::string> apply_config_edits(const std::vector<ConfigEdit>& edits);

// The URL with any user:password@ replaced by ***@, for logs and messages.
std::string redact_proxy_url(std::string_view url);

} // namespace azl::oobe
