#include "steps.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/oobe/host_proxy.hpp>
#include <azl/oobe/seal.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <fstream>

namespace azl::oobe
{

namespace fs = std::filesystem;

namespace
{

bool want_user(const Answers& a)
{
    return a.user.has_value();
}

bool want_hostname(const Answers& a)
{
    return a.hostname.has_value();
}

bool want_locale(const Answers& a)
{
    return a.locale.has_value();
}

bool want_timezone(const Answers& a)
{
    return a.timezone.has_value();
}

bool want_proxy(const Answers& a)
{
    return a.proxy.has_value();
}

bool want_ca(const Answers& a)
{
    return !a.ca_certificates.empty();
}

bool want_repositories(const Answers& a)
{
    return !a.repositories.empty();
}

bool want_packages(const Answers& a)
{
    return !a.packages.empty();
}

bool want_package_upgrade(const Answers& a)
{
    return a.package_update || a.package_upgrade;
}

bool want_systemd(const Answers& a)
{
    return a.systemd.has_value();
}

bool want_bridge(const Answers& a)
{
    return a.bridge.has_value();
}

bool want_host_sync(const Answers& a)
{
    return a.host_sync.has_value();
}

bool want_run(const Answers& a)
{
    return !a.run.empty();
}

bool is_elf(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::array<char, 4> magic{};
    return in.read(magic.data(), magic.size())
           && magic == std::array<char, 4>{'\x7f', 'E', 'L', 'F'};
}

bool is_executable_file(const fs::path& path)
{
    struct stat st = {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

// Whether the locale is one glibc can generate here (Debian lists them in SUPPORTED).
bool locale_supported(const std::string& locale)
{
    const fs::path supported = "/usr/share/i18n/SUPPORTED";
    std::error_code ec;
    if (locale == "C" || locale == "POSIX" || locale.starts_with("C.")
        || !fs::exists(supported, ec))
    {
        return true;
    }
    std::ifstream in(supported);
    std::string line;
    while (std::getline(in, line))
    {
        if (line.starts_with(locale + " "))
        {
            return true;
        }
    }
    return false;
}

void preflight_user(
    const UserAnswers& u, const FamilyFacts& facts, const State& state, std::string_view origin)
{
    const auto db = UserDatabase::load();
    const bool ours = state.done("user") || state.creating_user == u.name;
    if (!ours)
    {
        if (auto problem = new_username_problem(u.name, db); !problem.empty())
        {
            throw AnswersError(origin, "/user/name", problem);
        }
        if (const auto holder = db.user_by_uid(u.uid))
        {
            throw AnswersError(
                origin,
                "/user/uid",
                fmt::format("uid {} already belongs to \"{}\"", u.uid, holder->name));
        }
    }
    for (std::size_t i = 0; i < u.groups.size(); ++i)
    {
        if (!db.has_group(u.groups[i]))
        {
            throw AnswersError(
                origin,
                fmt::format("/user/groups/{}", i),
                fmt::format("group \"{}\" does not exist in this image", u.groups[i]));
        }
    }
    if (u.sudo != SudoMode::none && !db.has_group(facts.admin_group))
    {
        throw AnswersError(
            origin,
            "/user/sudo",
            fmt::format("the admin group \"{}\" does not exist in this image", facts.admin_group));
    }
    if (!is_executable_file(u.shell))
    {
        throw AnswersError(
            origin, "/user/shell", fmt::format("{} is not an executable in this image", u.shell));
    }
    if (u.sudo == SudoMode::password && !u.password && !u.password_hash)
    {
        throw AnswersError(
            origin,
            "/user/password_hash",
            R"(missing: with "sudo": "password" the user needs a password (or use nopasswd))");
    }
}

} // namespace

namespace
{

bool want_identity(const Answers& /*answers*/)
{
    return identity_missing();
}

std::string plan_identity(const StepContext& /*ctx*/)
{
    return "give this copy its own identity (a new /etc/machine-id; SSH host keys if sshd is "
           "installed)";
}

std::string apply_identity(StepContext& /*ctx*/)
{
    const std::string done = renew_identity();
    return done.empty() ? "identity already set" : done;
}

constexpr std::array kSteps = {
    Step{"identity", want_identity, plan_identity, apply_identity},
    Step{"files", want_files, plan_files, apply_files},
    Step{"user", want_user, plan_user, apply_user},
    Step{"hostname", want_hostname, plan_hostname, apply_hostname},
    Step{"locale", want_locale, plan_locale, apply_locale},
    Step{"timezone", want_timezone, plan_timezone, apply_timezone},
    Step{"proxy", want_proxy, plan_proxy, apply_proxy},
    Step{"ca_certificates", want_ca, plan_ca, apply_ca},
    Step{"repositories", want_repositories, plan_repositories, apply_repositories},
    Step{"package_upgrade", want_package_upgrade, plan_package_upgrade, apply_package_upgrade},
    Step{"packages", want_packages, plan_packages, apply_packages},
    Step{"systemd", want_systemd, plan_systemd, apply_systemd},
    Step{"bridge", want_bridge, plan_bridge, apply_bridge},
    Step{"host_sync", want_host_sync, plan_host_sync, apply_host_sync},
    Step{"files_deferred", want_deferred_files, plan_deferred_files, apply_deferred_files},
    Step{"run", want_run, plan_run, apply_run},
};

} // namespace

std::span<const Step> all_steps()
{
    return kSteps;
}

void preflight(
    const Answers& answers, const FamilyFacts& facts, const State& state, std::string_view origin)
{
    if (answers.user)
    {
        preflight_user(*answers.user, facts, state, origin);
    }
    std::error_code ec;
    if (answers.timezone
        && !fs::is_regular_file(fs::path("/usr/share/zoneinfo") / *answers.timezone, ec))
    {
        throw AnswersError(
            origin,
            "/timezone",
            fmt::format("\"{}\" is not in this image's /usr/share/zoneinfo", *answers.timezone));
    }
    if (answers.locale && !locale_supported(*answers.locale))
    {
        throw AnswersError(
            origin,
            "/locale",
            fmt::format(
                "\"{}\" is not a supported locale here (see /usr/share/i18n/SUPPORTED)",
                *answers.locale));
    }
    if (answers.systemd.value_or(false) && !is_elf("/sbin/init"))
    {
        throw AnswersError(
            origin,
            "/systemd",
            "WSL boots systemd only when /sbin/init is an ELF executable; install systemd-sysv "
            "first");
    }
    if (facts.family == Family::debian)
    {
        for (std::size_t i = 0; i < answers.repositories.size(); ++i)
        {
            if (answers.repositories[i].suite.empty())
            {
                throw AnswersError(
                    origin,
                    fmt::format("/repositories/{}/suite", i),
                    "missing: apt repositories need a suite (e.g. bookworm)");
            }
        }
    }
}

namespace detail
{

ProcessResult run_checked(
    const std::vector<std::string>& argv, const std::string& what, const ProcessOptions& options)
{
    auto result = run_process(argv, options);
    if (!result.ok())
    {
        std::string tail = result.err.empty() ? result.out : result.err;
        while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r'))
        {
            tail.pop_back();
        }
        if (const auto nl = tail.rfind('\n'); nl != std::string::npos)
        {
            tail = tail.substr(nl + 1);
        }
        throw SystemError(
            what,
            fmt::format(
                "{} {}{}",
                argv.front(),
                result.signal ? fmt::format("was killed by signal {}", *result.signal)
                              : fmt::format("exited with {}", result.exit_code),
                tail.empty() ? "" : fmt::format(": {}", tail)));
    }
    return result;
}

std::vector<std::string>
command(const std::vector<std::string_view>& base, const std::vector<std::string>& extra)
{
    std::vector<std::string> out(base.begin(), base.end());
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

bool edit_ini(const fs::path& path, unsigned mode, const std::function<void(IniFile&)>& edit)
{
    std::error_code ec;
    const std::string before = fs::exists(path, ec) ? read_file(path, 1U << 20U) : std::string();
    auto ini = IniFile::parse(before, path.string());
    edit(ini);
    const auto after = ini.str();
    if (after == before)
    {
        return false;
    }
    return write_if_changed(path, after, mode);
}

bool write_if_changed(const fs::path& path, std::string_view content, unsigned mode)
{
    std::error_code ec;
    struct stat st = {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 07777) == mode
        && read_file(path, 16U << 20U) == content)
    {
        return false;
    }
    const auto dir = path.parent_path();
    if (!fs::exists(dir, ec))
    {
        fs::create_directories(dir, ec);
        if (ec)
        {
            throw SystemError(fmt::format("creating {}", dir.string()), ec.message());
        }
    }
    write_file_atomic(path, content, mode);
    return true;
}

std::string redact_url(std::string_view url)
{
    return redact_proxy_url(url);
}

std::map<std::string, std::string> proxy_environment(const Answers& answers)
{
    std::map<std::string, std::string> env;
    if (!answers.proxy)
    {
        return env;
    }
    const auto& p = *answers.proxy;
    if (!p.http.empty())
    {
        env["http_proxy"] = env["HTTP_PROXY"] = p.http;
    }
    if (!p.https.empty())
    {
        env["https_proxy"] = env["HTTPS_PROXY"] = p.https;
    }
    if (!p.no_proxy.empty())
    {
        env["no_proxy"] = env["NO_PROXY"] = fmt::format("{}", fmt::join(p.no_proxy, ","));
    }
    return env;
}

} // namespace detail

} // namespace azl::oobe
