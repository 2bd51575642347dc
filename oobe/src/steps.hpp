#pragma once

#include <azl/common/ini.hpp>
#include <azl/common/process.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/family.hpp>
#include <azl/oobe/state.hpp>
#include <azl/oobe/users.hpp>

#include <spdlog/logger.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace azl::oobe
{

// Fixed guest paths (contracts: /etc/azurelinux, /var/lib/azurelinux-oobe, /var/log).
inline constexpr const char* kImageAnswers = "/etc/azurelinux/oobe.json";
inline constexpr const char* kStateFile = "/var/lib/azurelinux-oobe/state.json";
inline constexpr const char* kLogFile = "/var/log/azurelinux-oobe.log";
inline constexpr const char* kWslConf = "/etc/wsl.conf";
inline constexpr const char* kBridgeConf = "/etc/azurelinux/bridge.conf";
inline constexpr const char* kProxyProfile = "/etc/profile.d/azurelinux-proxy.sh";

// What every step sees.
struct StepContext
{
    const Answers& answers;
    const FamilyFacts& facts;
    State& state;
    std::filesystem::path state_path;
    std::shared_ptr<spdlog::logger> log;
};

// One idempotent step of first-run setup.
struct Step
{
    std::string_view id;
    bool (*wanted)(const Answers&);
    std::string (*plan)(const StepContext&); // what it would do (--dry-run)
    std::string (*apply)(StepContext&);      // does it; returns the line shown to the person
};

// Every step, in the order they run (run commands last).
std::span<const Step> all_steps();

// Checks the answers against this image before anything changes: the user name is free (or ours
// from an earlier run), groups, shell, time zone, locale exist, systemd can boot. Throws
// AnswersError naming `origin` (the answers file).
void preflight(
    const Answers& answers, const FamilyFacts& facts, const State& state, std::string_view origin);

// The steps' own helpers, shared between their files.
namespace detail
{

// Runs argv; throws SystemError naming `what` with the tail of its stderr when it fails.
ProcessResult run_checked(
    const std::vector<std::string>& argv,
    const std::string& what,
    const ProcessOptions& options = {});

// The family command plus extra arguments, as strings.
std::vector<std::string>
command(const std::vector<std::string_view>& base, const std::vector<std::string>& extra = {});

// Reads /etc/wsl.conf (or another INI file), applies `edit`, and writes it back atomically when
// the text changed; returns whether it did.
bool edit_ini(
    const std::filesystem::path& path, unsigned mode, const std::function<void(IniFile&)>& edit);

// Writes `content` atomically unless the file already holds exactly that (and has `mode`); creates
// the parent directory (0755). Returns whether it wrote.
bool write_if_changed(const std::filesystem::path& path, std::string_view content, unsigned mode);

// The URL with any user:password@ replaced by ***@, for logs and messages.
std::string redact_url(std::string_view url);

// The environment a package manager needs to go through the proxy.
std::map<std::string, std::string> proxy_environment(const Answers& answers);

} // namespace detail

// The step functions, one group per file.
std::string plan_user(const StepContext& ctx);
std::string apply_user(StepContext& ctx);
std::string plan_hostname(const StepContext& ctx);
std::string apply_hostname(StepContext& ctx);
std::string plan_locale(const StepContext& ctx);
std::string apply_locale(StepContext& ctx);
std::string plan_timezone(const StepContext& ctx);
std::string apply_timezone(StepContext& ctx);
std::string plan_proxy(const StepContext& ctx);
std::string apply_proxy(StepContext& ctx);
std::string plan_ca(const StepContext& ctx);
std::string apply_ca(StepContext& ctx);
std::string plan_repositories(const StepContext& ctx);
std::string apply_repositories(StepContext& ctx);
std::string plan_packages(const StepContext& ctx);
std::string apply_packages(StepContext& ctx);
std::string plan_systemd(const StepContext& ctx);
std::string apply_systemd(StepContext& ctx);
std::string plan_bridge(const StepContext& ctx);
std::string apply_bridge(StepContext& ctx);
std::string plan_host_sync(const StepContext& ctx);
std::string apply_host_sync(StepContext& ctx);
std::string plan_run(const StepContext& ctx);
bool want_files(const Answers& answers);
std::string plan_files(const StepContext& ctx);
std::string apply_files(StepContext& ctx);
bool want_deferred_files(const Answers& answers);
std::string plan_deferred_files(const StepContext& ctx);
std::string apply_deferred_files(StepContext& ctx);
std::string plan_package_upgrade(const StepContext& ctx);
std::string apply_package_upgrade(StepContext& ctx);
std::string apply_run(StepContext& ctx);

} // namespace azl::oobe
