#include "interrupt.hpp"
#include "steps.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/scope_guard.hpp>
#include <azl/oobe/password.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace azl::oobe
{

namespace fs = std::filesystem;
using detail::run_checked;

namespace
{

fs::path sudoers_path(const std::string& user)
{
    return fs::path("/etc/sudoers.d") / fmt::format("10-azurelinux-{}", user);
}

// Removes the sudoers file, user and home; used to roll back and to clear a killed run's leftovers.
// The sudoers rule goes first: killed in between, no rule is left naming a user that is gone (whom
// a later account of the same name would inherit it).
void remove_user(const std::string& name, spdlog::logger& log)
{
    std::error_code ec;
    fs::remove(sudoers_path(name), ec);
    if (ec)
    {
        log.warn("removing {}: {}", sudoers_path(name).string(), ec.message());
    }
    const auto result = run_process({"userdel", "-r", name});
    if (!result.ok())
    {
        log.warn("userdel -r {} exited with {}: {}", name, result.exit_code, result.err);
    }
}

std::string sudo_words(SudoMode mode)
{
    switch (mode)
    {
    case SudoMode::password:
        return "sudo with password";
    case SudoMode::nopasswd:
        return "sudo without password";
    case SudoMode::none:
        return "no sudo";
    }
    return {};
}

// Checked before anything changes: without these an account would be left half made (useradd
// without chpasswd: a user with no password; no userdel: no rollback).
void require_account_tools(const FamilyFacts& facts)
{
    for (const char* tool : {"useradd", "chpasswd", "userdel"})
    {
        if (!find_program(tool))
        {
            throw UserError(fmt::format(
                "{} is not installed, so no user can be created: install it with `{}` (as root) "
                "and launch again",
                tool,
                facts.family == Family::rpm ? "tdnf install shadow-utils"
                                            : "apt-get install passwd"));
        }
    }
}

void create_account(const UserAnswers& u, const FamilyFacts& facts)
{
    std::vector<std::string> groups;
    if (u.sudo != SudoMode::none)
    {
        groups.emplace_back(facts.admin_group);
    }
    groups.insert(groups.end(), u.groups.begin(), u.groups.end());
    std::vector<std::string> argv = {
        "useradd", "-m", "-U", "-u", std::to_string(u.uid), "-s", u.shell};
    if (!u.gecos.empty())
    {
        argv.insert(argv.end(), {"-c", u.gecos});
    }
    if (!groups.empty())
    {
        argv.insert(argv.end(), {"-G", fmt::format("{}", fmt::join(groups, ","))});
    }
    argv.push_back(u.name);
    run_checked(argv, fmt::format("creating user {}", u.name));
}

// The hash goes to chpasswd on stdin: never on a command line other users can read in /proc.
void set_password(const UserAnswers& u, spdlog::logger& log)
{
    std::string hash;
    if (u.password_hash)
    {
        hash = *u.password_hash;
    }
    else if (u.password)
    {
        hash = hash_password(*u.password);
    }
    else
    {
        log.info("no password for {}: password sign-in stays locked", u.name);
        return;
    }
    ProcessOptions opts;
    opts.stdin_data = fmt::format("{}:{}\n", u.name, hash);
    run_checked({"chpasswd", "-e"}, fmt::format("setting the password of {}", u.name), opts);
    ::explicit_bzero(opts.stdin_data->data(), opts.stdin_data->size());
}

void write_sudoers(const UserAnswers& u)
{
    if (u.sudo == SudoMode::none)
    {
        return;
    }
    const auto content = fmt::format(
        "# Written by azurelinux-oobe (first-run setup).\n{} ALL=(ALL:ALL) {}ALL\n",
        u.name,
        u.sudo == SudoMode::nopasswd ? "NOPASSWD: " : "");
    if (find_program("visudo"))
    {
        const TempDir scratch("azl-oobe-sudoers");
        const auto candidate = scratch.path() / "sudoers";
        write_file_atomic(candidate, content, 0440);
        run_checked({"visudo", "-c", "-q", "-f", candidate.string()}, "checking the sudoers rule");
    }
    detail::write_if_changed(sudoers_path(u.name), content, 0440);
}

void chown_or_throw(const fs::path& path, std::uint32_t uid, std::uint32_t gid)
{
    if (::chown(path.c_str(), uid, gid) != 0)
    {
        throw_errno(fmt::format("giving {} to uid {}", path.string(), uid));
    }
}

void write_ssh_keys(const UserAnswers& u)
{
    if (u.ssh_authorized_keys.empty())
    {
        return;
    }
    const auto account = UserDatabase::load().user(u.name);
    if (!account || !account->uid || !account->gid)
    {
        throw SystemError(
            fmt::format("looking up {}", u.name),
            account ? "its /etc/passwd entry has no numeric uid and gid"
                    : "useradd did not create it");
    }
    const fs::path dir = fs::path(account->home) / ".ssh";
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    {
        throw_errno(fmt::format("creating {}", dir.string()));
    }
    chown_or_throw(dir, *account->uid, *account->gid);
    const auto file = dir / "authorized_keys";
    write_file_atomic(file, fmt::format("{}\n", fmt::join(u.ssh_authorized_keys, "\n")), 0600);
    chown_or_throw(file, *account->uid, *account->gid);
}

} // namespace

std::string plan_user(const StepContext& ctx)
{
    const auto& u = *ctx.answers.user;
    return fmt::format(
        "create user {} (uid {}, shell {}, {}{}{})",
        u.name,
        u.uid,
        u.shell,
        sudo_words(u.sudo),
        u.password || u.password_hash ? ", password set" : ", password locked",
        u.ssh_authorized_keys.empty()
            ? ""
            : fmt::format(", {} ssh key(s)", u.ssh_authorized_keys.size()));
}

std::string apply_user(StepContext& ctx)
{
    const auto& u = *ctx.answers.user;
    require_account_tools(ctx.facts);
    for (const auto& lock : clear_stale_account_locks("/etc"))
    {
        ctx.log->info("removed {}, left by an account tool that was killed", lock.string());
    }
    if (UserDatabase::load().user(u.name))
    {
        // Preflight let an existing account through only as the leftover of a killed run.
        ctx.log->info("removing user {} left half-created by an interrupted run", u.name);
        remove_user(u.name, *ctx.log);
    }
    ctx.state.creating_user = u.name;
    ctx.state.save(ctx.state_path);
    // A failed or interrupted user step leaves no account.
    ScopeGuard rollback(
        [&]
        {
            ctx.log->info("rolling back: removing user {}", u.name);
            remove_user(u.name, *ctx.log);
        });
    create_account(u, ctx.facts);
    throw_if_interrupted();
    set_password(u, *ctx.log);
    throw_if_interrupted();
    write_sudoers(u);
    write_ssh_keys(u);
    if (u.uid != 1000)
    {
        // WSL makes uid 1000 (defaultUid) the default user; another uid needs [user] default.
        detail::edit_ini(
            kWslConf, 0644, [&u](IniFile& ini) { ini.set("user", "default", u.name); });
    }
    throw_if_interrupted();
    rollback.dismiss();
    ctx.state.creating_user.clear();
    return fmt::format("user {} created (uid {}, {})", u.name, u.uid, sudo_words(u.sudo));
}

} // namespace azl::oobe
