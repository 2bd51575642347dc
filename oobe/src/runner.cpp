#include "interrupt.hpp"
#include "steps.hpp"

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/oobe/prompter.hpp>
#include <azl/oobe/runner.hpp>
#include <azl/oobe/sources.hpp>
#include <azl/oobe/status.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

namespace azl::oobe
{

namespace fs = std::filesystem;

namespace
{

// The answers as loaded, with where they came from.
// NOLINTNEXTLINE(bugprone-exception-escape): json's noexcept move has an assertion tidy follows
struct Loaded
{
    MergedAnswers merged;
    Answers answers;
    std::string origin; // the contributing layers, or empty when none was found
    std::string digest;
};

Loaded load_answers(const RunOptions& options)
{
    Loaded out;
    out.merged =
        merge_layers(find_layers(options.answers_file, kImageAnswers, options.host_layers_file));
    if (out.merged.layers.empty())
    {
        return out;
    }
    auto log = logger("oobe");
    for (const auto& layer : out.merged.layers)
    {
        for (const auto& note : layer.ignored)
        {
            log->warn("{}: {}", layer.origin, note);
        }
    }
    for (const auto& refusal : out.merged.refusals)
    {
        log->warn(
            "{}: {} is locked by the organisation ({}); the value there is not used",
            refusal.origin,
            refusal.key,
            refusal.policy);
    }
    out.origin = out.merged.summary();
    out.answers = parse_answers(out.merged);
    out.digest = answers_digest(out.merged.document.dump());
    log->info("answers from {}", out.origin);
    if (out.answers.user && out.answers.user->password)
    {
        log->warn(
            "{}: /user/password is plaintext; prefer password_hash (`mkpasswd -m yescrypt`)",
            out.merged.origin_of("/user/password"));
    }
    return out;
}

bool needs_password(const UserAnswers& u)
{
    return u.sudo == SudoMode::password && !u.password && !u.password_hash;
}

// Asks the person for what the answers leave out: the user, or only its password.
void fill_interactively(Loaded& loaded, const OsRelease& os)
{
    auto& answers = loaded.answers;
    auto tty = open_terminal_prompter();
    if (!tty)
    {
        if (!loaded.origin.empty())
        {
            throw AnswersError(
                loaded.origin,
                answers.user ? "/user/password_hash" : "/user",
                "missing, and there is no terminal to ask on");
        }
        throw UserError(
            "no answers file was found and there is no terminal to ask for the first user",
            "run it on a terminal, or give --answers FILE (see oobe/examples/answers.json)");
    }
    if (!answers.user)
    {
        tty->say(fmt::format("Welcome to {}. Let's create your user account.", os.display_name()));
        const auto windows_user = windows_environment("USERNAME");
        const auto suggestion = windows_user ? suggest_username(*windows_user) : std::string();
        UserAnswers u;
        u.name = prompt_username(*tty, UserDatabase::load(), suggestion);
        answers.user = std::move(u);
    }
    answers.user->password = prompt_password(*tty, answers.user->name);
}

// Every effective value with the layer it came from, and what the organisation's locks refused.
void print_effective(const MergedAnswers& merged)
{
    if (merged.layers.empty())
    {
        fmt::print("No answers found: everything is asked on the terminal.\n");
        return;
    }
    fmt::print("Layers, highest first:\n");
    for (const auto& layer : merged.layers)
    {
        fmt::print(
            "  {:<15} {}{}\n",
            layer_name(layer.kind),
            layer.origin,
            layer.locked.empty() ? "" : fmt::format(" (locks {})", fmt::join(layer.locked, ", ")));
        for (const auto& note : layer.ignored)
        {
            fmt::print("    ignored: {}\n", note);
        }
    }
    fmt::print("Effective answers:\n");
    for (const auto& v : effective_values(merged))
    {
        const Layer& layer = merged.layers[v.layer];
        fmt::print(
            "  {} = {}  [{}: {}]\n", v.key, v.value.dump(), layer_name(layer.kind), layer.origin);
    }
    for (const auto& r : merged.refusals)
    {
        fmt::print("  refused: {} from {} (locked by {})\n", r.key, r.origin, r.policy);
    }
}

nlohmann::json plan_json(const StepContext& ctx, const MergedAnswers& merged)
{
    using nlohmann::json;
    json doc{{"layers", json::array()}, {"values", json::array()}, {"refused", json::array()}};
    for (const auto& layer : merged.layers)
    {
        doc["layers"].push_back(
            {{"layer", layer_name(layer.kind)},
             {"origin", layer.origin},
             {"locks", layer.locked},
             {"ignored", layer.ignored}});
    }
    for (const auto& v : effective_values(merged))
    {
        const Layer& layer = merged.layers[v.layer];
        doc["values"].push_back(
            {{"key", v.key},
             {"value", v.value},
             {"layer", layer_name(layer.kind)},
             {"origin", layer.origin}});
    }
    for (const auto& r : merged.refusals)
    {
        doc["refused"].push_back({{"key", r.key}, {"origin", r.origin}, {"locked_by", r.policy}});
    }
    json steps = json::array();
    for (const auto& step : all_steps())
    {
        if (step.wanted(ctx.answers))
        {
            steps.push_back(
                {{"step", step.id}, {"done", ctx.state.done(step.id)}, {"plan", step.plan(ctx)}});
        }
    }
    doc["steps"] = std::move(steps);
    return doc;
}

void print_plan(const StepContext& ctx, const MergedAnswers& merged, Output output)
{
    if (output == Output::json)
    {
        fmt::print("{}\n", plan_json(ctx, merged).dump(2));
        return;
    }
    print_effective(merged);
    fmt::print("First-run setup would (dry run, nothing changes):\n");
    for (const auto& step : all_steps())
    {
        if (step.wanted(ctx.answers))
        {
            fmt::print("  {} {}\n", ctx.state.done(step.id) ? "[done]" : "[todo]", step.plan(ctx));
        }
    }
}

OobeExit apply_steps(StepContext& ctx, RunStatus& status)
{
    for (const auto& step : all_steps())
    {
        if (!step.wanted(ctx.answers))
        {
            continue;
        }
        if (ctx.state.done(step.id))
        {
            fmt::print("  = {}: already done\n", step.id);
            continue;
        }
        if (interrupted())
        {
            status.set(SetupState::failed, step.id, "interrupted");
            throw Interrupted();
        }
        status.set(SetupState::running, step.id);
        ctx.log->info("step {}: {}", step.id, step.plan(ctx));
        std::string line;
        try
        {
            line = step.apply(ctx);
        }
        catch (const Interrupted&)
        {
            status.set(SetupState::failed, step.id, "interrupted");
            throw;
        }
        catch (const std::exception& e)
        {
            if (interrupted())
            {
                // The child died of the same Ctrl-C: an interruption, not a failing step.
                ctx.log->warn("step {} interrupted: {}", step.id, e.what());
                ctx.state.save(ctx.state_path);
                status.set(SetupState::failed, step.id, "interrupted");
                throw Interrupted();
            }
            ctx.log->error("step {} failed: {}", step.id, e.what());
            ctx.state.save(ctx.state_path);
            status.set(SetupState::failed, step.id, "step failed");
            fmt::print(stderr, "azurelinux-oobe: step {} failed: {}\n", step.id, e.what());
            fmt::print(
                stderr, "  hint: see {}; setup continues from this step next launch\n", kLogFile);
            return OobeExit::step_failed;
        }
        ctx.state.mark_done(step.id);
        ctx.state.save(ctx.state_path);
        ctx.log->info("step {} done: {}", step.id, line);
        fmt::print("  + {}\n", line);
        (void)std::fflush(stdout); // progress only: a failed flush shows up at the next write
    }
    ctx.state.finished = true;
    ctx.state.save(ctx.state_path);
    status.set(SetupState::done);
    return OobeExit::done;
}

OobeExit reset(const RunOptions& options)
{
    std::error_code ec;
    for (const fs::path& p : {fs::path(kStateFile), fs::path(kStatusFile), fs::path(kLogFile)})
    {
        if (options.dry_run == DryRun::yes)
        {
            fmt::print("would remove {}\n", p.string());
        }
        else if (fs::remove(p, ec))
        {
            fmt::print("removed {}\n", p.string());
        }
        else if (ec)
        {
            throw SystemError(fmt::format("removing {}", p.string()), ec.message());
        }
    }
    return OobeExit::done;
}

} // namespace

OobeExit run_oobe(const RunOptions& options)
{
    if (::geteuid() != 0)
    {
        throw UserError(
            "azurelinux-oobe must run as root", "WSL runs it as root on the first launch");
    }
    if (options.action == Action::reset)
    {
        return reset(options);
    }
    const auto os = OsRelease::load();
    const auto& facts = facts_for(detect_family(os));
    auto loaded = load_answers(options);
    if (options.action == Action::check && loaded.origin.empty())
    {
        throw AnswersError(
            "answers",
            "",
            "no answers file found (--answers, the host's provisioning file, "
            "/etc/azurelinux/oobe.json)");
    }
    auto state = State::load(kStateFile);
    if (state.finished && options.action != Action::check && options.dry_run == DryRun::no
        && (loaded.origin.empty() || state.answers_digest == loaded.digest))
    {
        fmt::print("First-run setup is already complete.\n");
        return OobeExit::done;
    }
    if (state.answers_digest != loaded.digest)
    {
        // Different answers: every step runs again, but the first user exists and stays.
        const bool had_user = state.done("user");
        state.completed.clear();
        state.finished = false;
        if (had_user)
        {
            state.mark_done("user");
        }
    }
    preflight(loaded.answers, facts, state, loaded.origin.empty() ? "answers" : loaded.origin);
    if (options.action == Action::check)
    {
        fmt::print("{}: valid for {} ({} family)\n", loaded.origin, os.display_name(), facts.name);
        return OobeExit::done;
    }
    const InterruptFlag interrupt_flag;
    if (options.dry_run == DryRun::no && !state.done("user")
        && (!loaded.answers.user || needs_password(*loaded.answers.user)))
    {
        fill_interactively(loaded, os);
        preflight(loaded.answers, facts, state, loaded.origin.empty() ? "answers" : loaded.origin);
    }
    StepContext ctx{loaded.answers, facts, state, kStateFile, logger("oobe")};
    if (options.dry_run == DryRun::yes)
    {
        print_plan(ctx, loaded.merged, options.output);
        return OobeExit::done;
    }
    RunStatus status; // from here on, `status` reports this run
    if (options.start_log_file)
    {
        options.start_log_file(kLogFile);
        ctx.log = logger("oobe"); // the new sinks belong to loggers made from now on
    }
    // A killed run (WSL closing the window) must still leave a complete log behind.
    ctx.log->flush_on(spdlog::level::info);
    ctx.log->info(
        "first-run setup on {} ({} family), answers: {}",
        os.display_name(),
        facts.name,
        loaded.origin.empty() ? "interactive" : loaded.origin);
    state.answers_digest = loaded.digest;
    fmt::print("Setting up {}:\n", os.display_name());
    const auto result = apply_steps(ctx, status);
    if (result == OobeExit::done)
    {
        fmt::print(
            "First-run setup complete{}.\n",
            loaded.answers.user ? fmt::format("; you are {}", loaded.answers.user->name) : "");
        ctx.log->info("first-run setup complete");
    }
    return result;
}

} // namespace azl::oobe
