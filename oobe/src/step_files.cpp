#include "interrupt.hpp"
#include "steps.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/ini.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/stat.h>

namespace azl::oobe
{

namespace fs = std::filesystem;

namespace
{

// The indexes of the files written early (defer false) or late (defer true).
std::vector<std::size_t> files_of(const Answers& answers, bool deferred)
{
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < answers.files.size(); ++i)
    {
        if (answers.files[i].defer == deferred)
        {
            out.push_back(i);
        }
    }
    return out;
}

std::string plan_files_of(const StepContext& ctx, bool deferred)
{
    std::vector<std::string> paths;
    for (const auto i : files_of(ctx.answers, deferred))
    {
        const auto& f = ctx.answers.files[i];
        paths.push_back(fmt::format(
            "{} ({}{:04o} {}:{})", f.path, f.append ? "append, " : "", f.mode, f.owner, f.group));
    }
    return fmt::format(
        "write {} file(s){}: {}",
        paths.size(),
        deferred ? " after the user and packages" : "",
        fmt::join(paths, ", "));
}

// Appending to /etc/wsl.conf adds its keys to the sections there (WSL reads one value per key;
// a second [user] section would leave which one counts to chance).
void merge_wsl_conf(const FileAnswers& f, std::size_t index)
{
    const auto extra = IniFile::parse(f.content, fmt::format("files/{} ({})", index, f.path));
    detail::edit_ini(
        f.path,
        f.mode,
        [&extra](IniFile& ini)
        {
            for (const auto& item : extra.items())
            {
                ini.set(item.section, item.key, item.value);
            }
        });
}

void write_one(StepContext& ctx, const FileAnswers& f, std::size_t index)
{
    const auto id = fmt::format("files/{}", index);
    if (f.append)
    {
        // Appending is not idempotent by itself: done once, recorded.
        if (ctx.state.done(id))
        {
            return;
        }
        if (f.path == kWslConf)
        {
            merge_wsl_conf(f, index);
        }
        else
        {
            std::error_code ec;
            const std::string before =
                fs::exists(f.path, ec) ? read_file(f.path, 64U << 20U) : std::string();
            detail::write_if_changed(f.path, before + f.content, f.mode);
        }
    }
    else
    {
        detail::write_if_changed(f.path, f.content, f.mode);
    }
    if (f.owner != "root" || f.group != "root")
    {
        detail::run_checked(
            {"chown", "--", fmt::format("{}:{}", f.owner, f.group), f.path},
            fmt::format("giving {} to {}:{} (/files/{}/owner)", f.path, f.owner, f.group, index));
    }
    if (f.append)
    {
        ctx.state.mark_done(id);
        ctx.state.save(ctx.state_path);
    }
}

std::string apply_files_of(StepContext& ctx, bool deferred)
{
    const auto indexes = files_of(ctx.answers, deferred);
    for (const auto i : indexes)
    {
        throw_if_interrupted();
        write_one(ctx, ctx.answers.files[i], i);
    }
    return fmt::format("{} file(s) written", indexes.size());
}

} // namespace

bool want_files(const Answers& answers)
{
    return !files_of(answers, false).empty();
}

bool want_deferred_files(const Answers& answers)
{
    return !files_of(answers, true).empty();
}

std::string plan_files(const StepContext& ctx)
{
    return plan_files_of(ctx, false);
}

std::string apply_files(StepContext& ctx)
{
    return apply_files_of(ctx, false);
}

std::string plan_deferred_files(const StepContext& ctx)
{
    return plan_files_of(ctx, true);
}

std::string apply_deferred_files(StepContext& ctx)
{
    return apply_files_of(ctx, true);
}

std::string plan_package_upgrade(const StepContext& ctx)
{
    return ctx.answers.package_upgrade
               ? fmt::format(
                   "upgrade every package: {}, then {}",
                   fmt::join(ctx.facts.package_refresh, " "),
                   fmt::join(ctx.facts.package_upgrade, " "))
               : fmt::format(
                   "refresh the package lists: {}", fmt::join(ctx.facts.package_refresh, " "));
}

std::string apply_package_upgrade(StepContext& ctx)
{
    ProcessOptions opts;
    opts.set_env = detail::proxy_environment(ctx.answers);
    opts.set_env["DEBIAN_FRONTEND"] = "noninteractive";
    opts.timeout = std::chrono::minutes(60);
    detail::run_checked(
        detail::command(ctx.facts.package_refresh), "refreshing the package lists", opts);
    if (!ctx.answers.package_upgrade)
    {
        return "package lists refreshed";
    }
    throw_if_interrupted();
    detail::run_checked(
        detail::command(ctx.facts.package_upgrade), "upgrading the installed packages", opts);
    return "packages upgraded";
}

} // namespace azl::oobe
