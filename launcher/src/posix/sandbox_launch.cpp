// The sandbox's launches: instance start (init + [boot] command), bwrap arguments, users, spawning.
#include "guest_fs.hpp"
#include "instance_entry.hpp"
#include "sandbox_backend.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/ini.hpp>
#include <azl/common/log.hpp>
#include <azl/common/process.hpp>
#include <azl/common/scope_guard.hpp>
#include <azl/common/wsl_facts.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <thread>

namespace azl::launcher::sandbox
{

namespace fs = std::filesystem;

namespace
{

constexpr std::string_view kHelperGuestPath = "/run/azurelinux/sandbox-exec";
constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// What the guest's /etc/wsl.conf asks of a launch.
struct WslConf
{
    bool automount = true;
    std::string mount_root = "/mnt/";
    bool interop = true;
    bool append_path = true;
    bool resolv_conf = true;
    bool hosts = true; // [network] generateHosts: /etc/hosts written at every start
    std::optional<std::string> default_user;
    std::optional<std::string> boot_command;
    std::optional<std::string> hostname;
    bool systemd = false;
};

WslConf read_wsl_conf(const Record& r)
{
    WslConf c;
    const auto text = read_guest_file(r.rootfs(), "/etc/wsl.conf");
    if (!text)
    {
        return c;
    }
    IniFile ini;
    try
    {
        ini = IniFile::parse(*text, fmt::format("{}:/etc/wsl.conf", r.name));
    }
    catch (const UserError& e)
    {
        // WSL, too, starts with the defaults when the file is malformed.
        logger("launcher")->warn("{}; using the defaults", e.what());
        return c;
    }
    const auto flag = [&ini](const char* section, const char* key, bool fallback)
    {
        const auto v = ini.get(section, key);
        return v ? parse_ini_bool(*v).value_or(fallback) : fallback;
    };
    c.automount = flag("automount", "enabled", true);
    if (auto root = ini.get("automount", "root"); root && root->starts_with('/'))
    {
        c.mount_root = root->ends_with('/') ? *root : *root + "/";
    }
    c.interop = flag("interop", "enabled", true);
    c.append_path = flag("interop", "appendWindowsPath", true);
    c.resolv_conf = flag("network", "generateResolvConf", true);
    c.hosts = flag("network", "generateHosts", true);
    c.systemd = flag("boot", "systemd", false);
    c.default_user = ini.get("user", "default");
    c.boot_command = ini.get("boot", "command");
    c.hostname = ini.get("network", "hostname");
    return c;
}

std::string host_name()
{
    std::array<char, 256> buffer{};
    if (::gethostname(buffer.data(), buffer.size() - 1) != 0)
    {
        return "localhost";
    }
    return buffer.data();
}

// Field 22 of /proc/PID/stat: tells a live process from a later one reusing its pid.
std::optional<std::string> start_time(pid_t pid)
{
    std::string stat;
    try
    {
        stat = read_file(fmt::format("/proc/{}/stat", pid), 4096);
    }
    catch (const std::exception&)
    {
        return std::nullopt;
    }
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos)
    {
        return std::nullopt;
    }
    std::size_t pos = paren + 2;
    for (int field = 3; field < 22 && pos != std::string::npos; ++field)
    {
        pos = stat.find(' ', pos);
        pos = pos == std::string::npos ? pos : pos + 1;
    }
    if (pos == std::string::npos)
    {
        return std::nullopt;
    }
    return stat.substr(pos, stat.find(' ', pos) - pos);
}

// The pid of the instance's pid 1 when it runs.
std::optional<pid_t> live_init(const StorePaths& paths, const Record& r)
{
    const fs::path file = paths.instance_runtime(r) / "init";
    std::error_code ec;
    if (!fs::exists(file, ec))
    {
        return std::nullopt;
    }
    const std::string text = read_file(file, 256);
    const auto space = text.find(' ');
    if (space == std::string::npos)
    {
        return std::nullopt;
    }
    const auto pid = static_cast<pid_t>(std::strtol(text.c_str(), nullptr, 10));
    const auto started = start_time(pid);
    if (pid <= 1 || !started || *started != text.substr(space + 1))
    {
        return std::nullopt;
    }
    return pid;
}

// An flock held while an instance is started or stopped.
UniqueFd lock_runtime(const StorePaths& paths, const Record& r)
{
    fs::create_directories(paths.runtime);
    ::chmod(paths.runtime.c_str(), 0700);
    const fs::path file = paths.runtime / (r.id + ".lock");
    UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd)
    {
        throw_errno(fmt::format("opening {}", file.string()));
    }
    while (::flock(fd.get(), LOCK_EX) != 0)
    {
        if (errno != EINTR)
        {
            throw_errno(fmt::format("locking {}", file.string()));
        }
    }
    return fd;
}

void make_dir(const fs::path& dir, fs::perms perms)
{
    fs::create_directories(dir);
    fs::permissions(dir, perms);
}

// The environment of every launch: what WSL sets, with the user's TERM and LANG.
std::vector<std::pair<std::string, std::string>> launch_environment(
    const Record& r, const WslConf& conf, const GuestUser& user, const std::string& hostname)
{
    const bool mounted = conf.automount && r.flags.mount_drives;
    std::string path{kDefaultPath};
    const bool interop = conf.interop && r.flags.interop;
    if (interop && mounted && conf.append_path && r.flags.append_path)
    {
        const std::string c = conf.mount_root + "c";
        path += fmt::format(":{0}/Windows/System32:{0}/Windows", c);
    }
    const char* term = std::getenv("TERM");
    const char* lang = std::getenv("LANG");
    std::vector<std::pair<std::string, std::string>> env = {
        {"PATH", path},
        {"HOME", user.home},
        {"USER", user.name},
        {"LOGNAME", user.name},
        {"SHELL", user.shell},
        {"TERM", term != nullptr ? term : "xterm-256color"},
        {"LANG", lang != nullptr ? lang : "C.UTF-8"},
        {"NAME", hostname},
        {"HOSTTYPE", "x86_64"},
        {"WSL_DISTRO_NAME", r.name}};
    if (interop)
    {
        env.emplace_back("WSL_INTEROP", "/run/WSL/1_interop");
    }
    return env;
}

// The hostname of the instance: wsl.conf's, else the host's, cleaned up as WSL does.
std::string instance_hostname(const WslConf& conf)
{
    return clean_wsl_hostname(conf.hostname.value_or(host_name()));
}

// The bwrap arguments every sandbox of the instance shares: file system, hostname, environment.
std::vector<std::string>
common_args(const StorePaths& paths, const Record& r, const WslConf& conf, const GuestUser& user)
{
    const fs::path rt = paths.instance_runtime(r);
    const std::string hostname = instance_hostname(conf);
    std::vector<std::string> a = {
        "bwrap",
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname",
        hostname,
        "--bind",
        r.rootfs().string(),
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--bind",
        (rt / "run").string(),
        "/run",
        "--bind",
        (rt / "tmp").string(),
        "/tmp"};
    const bool mounted = conf.automount && r.flags.mount_drives;
    if (mounted)
    {
        make_dir(
            paths.drive_c,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec
                | fs::perms::others_read | fs::perms::others_exec);
        a.insert(a.end(), {"--bind", paths.drive_c.string(), conf.mount_root + "c"});
    }
    std::error_code ec;
    if (conf.resolv_conf && fs::exists("/etc/resolv.conf", ec))
    {
        a.insert(a.end(), {"--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"});
    }
    a.emplace_back("--clearenv");
    for (auto& [name, value] : launch_environment(r, conf, user, hostname))
    {
        a.insert(a.end(), {"--setenv", std::move(name), std::move(value)});
    }
    return a;
}

// Waits until the instance's init says it runs (one byte on `ready`): bwrap reports the child's
// pid before it has set up the child's mounts, and a launch that entered the namespaces then would
// find a half-built root. False when init ended (or never wrote) within the time.
bool wait_ready(const UniqueFd& ready)
{
    struct pollfd p = {.fd = ready.get(), .events = POLLIN, .revents = 0};
    for (;;)
    {
        const int n = ::poll(&p, 1, 30000);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            return false;
        }
        char byte = 0;
        ssize_t got = 0;
        do
        {
            got = ::read(ready.get(), &byte, 1);
        } while (got < 0 && errno == EINTR);
        return got == 1;
    }
}

// Starts argv detached (its own session, reparented away from us) and returns bwrap's info JSON
// (fd 3 in the child) once the program has written a byte to fd 4 (empty when it did not).
std::string start_detached(const std::vector<std::string>& argv, const fs::path& log)
{
    std::vector<std::string> args = argv;
    std::vector<char*> cargv;
    cargv.reserve(args.size() + 1);
    for (std::string& s : args)
    {
        cargv.push_back(s.data());
    }
    cargv.push_back(nullptr);
    std::array<int, 2> info{};
    if (::pipe2(info.data(), O_CLOEXEC) != 0)
    {
        throw_errno("creating a pipe");
    }
    UniqueFd info_read(info[0]);
    UniqueFd info_write(info[1]);
    std::array<int, 2> ready{};
    if (::pipe2(ready.data(), O_CLOEXEC) != 0)
    {
        throw_errno("creating a pipe");
    }
    const UniqueFd ready_read(ready[0]);
    UniqueFd ready_write(ready[1]);
    const UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    const UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!log_fd || !null_fd)
    {
        throw_errno(fmt::format("opening {}", log.string()));
    }
    const pid_t child = ::fork();
    if (child < 0)
    {
        throw_errno("starting the instance");
    }
    if (child == 0)
    {
        // Only async-signal-safe calls from here on.
        ::setsid();
        if (::fork() != 0)
        {
            ::_exit(0);
        }
        for (int s : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE})
        {
            (void)::signal(s, SIG_DFL); // cannot fail for a valid signal and handler
        }
        if (::dup2(null_fd.get(), 0) < 0 || ::dup2(log_fd.get(), 1) < 0
            || ::dup2(log_fd.get(), 2) < 0 || ::dup2(info_write.get(), 3) < 0
            || ::dup2(ready_write.get(), 4) < 0)
        {
            ::_exit(127);
        }
        // The instance outlives us: it must not hold our caller's pipes open (`… | tail` would
        // wait for it) or any other descriptor we inherited.
        ::close_range(5, ~0U, 0);
        ::execvp(cargv[0], cargv.data());
        ::_exit(127);
    }
    info_write = UniqueFd();
    ready_write = UniqueFd();
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR)
    {
    }
    std::string out;
    std::array<char, 4096> buffer{};
    for (;;)
    {
        const ssize_t got = ::read(info_read.get(), buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR)
        {
            continue;
        }
        if (got <= 0)
        {
            break;
        }
        out.append(buffer.data(), static_cast<std::size_t>(got));
    }
    return wait_ready(ready_read) ? out : std::string();
}

// The helper is copied into the instance's own /run when it starts, rather than bind-mounted into
// every sandbox: one mount fewer per launch (each costs ~0.7 ms of a ~15 ms launch). Only the
// guest's root can change it there, and it runs with no more than the guest's root already has.
void install_helper(const StorePaths& paths, const Record& r)
{
    const fs::path target = paths.instance_runtime(r) / "run" / kHelperGuestPath.substr(5);
    // An instance started by an older launcher has an empty mount point there.
    std::error_code ec;
    const auto size = fs::file_size(target, ec);
    if (!ec && size == fs::file_size(paths.helper))
    {
        return;
    }
    const fs::path staging = target.parent_path() / ".sandbox-exec.new";
    fs::copy_file(paths.helper, staging, fs::copy_options::overwrite_existing);
    fs::permissions(
        staging,
        fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec
            | fs::perms::others_read | fs::perms::others_exec);
    fs::rename(staging, target);
}

// Starts the instance when it does not run: fresh /run and /tmp, then init and the boot command.
pid_t ensure_started(const StorePaths& paths, const Record& r, const WslConf& conf)
{
    const UniqueFd lock = lock_runtime(paths, r);
    if (const auto pid = live_init(paths, r))
    {
        // Started by an older launcher (or the guest's root removed it).
        install_helper(paths, r);
        return *pid;
    }
    const fs::path rt = paths.instance_runtime(r);
    fs::remove_all(rt);
    make_dir(rt, fs::perms::owner_all);
    const auto open_perms = fs::perms::all | fs::perms::sticky_bit;
    const auto dir_perms = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec
                           | fs::perms::others_read | fs::perms::others_exec;
    make_dir(rt / "run", dir_perms);
    make_dir(rt / "run" / "lock", open_perms);
    make_dir(rt / "run" / "azurelinux", dir_perms);
    make_dir(rt / "tmp", open_perms);
    install_helper(paths, r);

    const GuestUser root{
        .name = "root", .uid = 0, .gid = 0, .home = "/root", .shell = "/bin/sh", .groups = {}};
    std::vector<std::string> argv = common_args(paths, r, conf, root);
    if (::geteuid() != 0)
    {
        argv.insert(argv.end(), {"--unshare-user", "--uid", "0", "--gid", "0"});
    }
    argv.insert(
        argv.end(),
        {"--unshare-pid", "--info-fd", "3", "--", std::string(kHelperGuestPath), "init"});
    if (conf.hosts)
    {
        // WSL's init writes /etc/hosts at every start; ours does it before the instance is ready.
        argv.insert(
            argv.end(),
            {"--hosts", instance_hostname(conf), "--domain", std::string(kWslDefaultDomain)});
    }
    argv.insert(argv.end(), {"--ready-fd", "4"});
    if (conf.boot_command && !conf.boot_command->empty())
    {
        argv.push_back(*conf.boot_command);
    }
    if (conf.systemd)
    {
        logger("launcher")
            ->warn(
                "{}: [boot] systemd is not supported in the Linux sandbox; "
                "services do not start",
                r.name);
    }
    const std::string info = start_detached(argv, rt / "boot.log");
    pid_t pid = 0;
    try
    {
        pid = nlohmann::json::parse(info).at("child-pid").get<pid_t>();
    }
    catch (const nlohmann::json::exception&)
    {
        const std::string log = read_file(rt / "boot.log");
        throw UserError(
            fmt::format(
                "cannot start {}: {}",
                r.name,
                log.empty() ? "bwrap failed" : log.substr(0, log.find('\n'))),
            "`azurelinux doctor` checks the sandbox engine");
    }
    const auto started = start_time(pid);
    if (!started)
    {
        throw UserError(fmt::format(
            "{} stopped right after starting; see {}", r.name, (rt / "boot.log").string()));
    }
    if (::geteuid() == 0)
    {
        // Before the instance is recorded as running: a launch never sees it without.
        ScopeGuard stop([pid] { ::kill(pid, SIGKILL); });
        InstanceEntry(pid).allow_setuid();
        stop.dismiss();
    }
    write_file_atomic(rt / "init", fmt::format("{} {}", pid, *started), 0600);
    return pid;
}

// The guest user a launch runs as: the asked one, else wsl.conf's [user] default, else the
// record's.
GuestUser launch_user(const Record& r, const LaunchSpec& spec, const WslConf& conf)
{
    const std::optional<std::string> asked = spec.user ? spec.user : conf.default_user;
    if (asked)
    {
        if (auto user = find_guest_user(r.rootfs(), *asked))
        {
            return *user;
        }
        throw UserError(
            fmt::format("there is no user {} in {}", *asked, r.name),
            spec.user ? "check the name, or create the user first"
                      : "fix [user] default in the guest's /etc/wsl.conf");
    }
    if (auto user = find_guest_uid(r.rootfs(), r.default_uid))
    {
        return *user;
    }
    // A uid without a passwd entry still runs, as on WSL, with what can be guessed.
    return {
        .name = std::to_string(r.default_uid),
        .uid = r.default_uid,
        .gid = r.default_uid,
        .home = "/",
        .shell = "/bin/sh",
        .groups = {}};
}

// What the helper is asked to do in the guest: become the user, change directory, run the
// command (or the user's shell as a login shell).
std::vector<std::string> helper_args(const LaunchSpec& spec, const GuestUser& user)
{
    std::string groups;
    for (const std::uint32_t g : user.groups)
    {
        groups += (groups.empty() ? "" : ",") + std::to_string(g);
    }
    std::vector<std::string> a = {
        std::string(kHelperGuestPath),
        "exec",
        "--uid",
        std::to_string(user.uid),
        "--gid",
        std::to_string(user.gid),
        "--groups",
        groups,
        "--cwd",
        spec.cwd.value_or(user.home)};
    if (spec.argv.empty())
    {
        a.insert(a.end(), {"--login", "--", user.shell});
    }
    else
    {
        a.emplace_back("--");
        a.insert(a.end(), spec.argv.begin(), spec.argv.end());
    }
    return a;
}

// A launch in a sandbox of its own (bwrap), for a launcher that is not root: it cannot join the
// instance's namespaces, which belong to another user namespace.
std::vector<std::string> sandbox_args(
    const StorePaths& paths,
    const Record& r,
    const LaunchSpec& spec,
    const WslConf& conf,
    const GuestUser& user)
{
    std::vector<std::string> a = common_args(paths, r, conf, user);
    a.insert(
        a.end(),
        {"--die-with-parent",
         "--unshare-user",
         "--unshare-pid",
         "--uid",
         std::to_string(user.uid),
         "--gid",
         std::to_string(user.gid)});
    if (spec.answers_file)
    {
        a.insert(
            a.end(),
            {"--ro-bind",
             fs::absolute(*spec.answers_file).string(),
             std::string(kAnswersGuestPath)});
    }
    const std::vector<std::string> helper = helper_args(spec, user);
    a.emplace_back("--");
    a.insert(a.end(), helper.begin(), helper.end());
    return a;
}

// SIGINT and SIGQUIT ignored while alive: like system(), the launcher leaves the terminal's
// Ctrl-C to the program it runs.
class TerminalSignalsIgnored
{
public:
    TerminalSignalsIgnored()
    {
        struct sigaction ignore = {};
        ignore.sa_handler = SIG_IGN;
        ::sigaction(SIGINT, &ignore, &m_int);
        ::sigaction(SIGQUIT, &ignore, &m_quit);
    }

    ~TerminalSignalsIgnored()
    {
        ::sigaction(SIGINT, &m_int, nullptr);
        ::sigaction(SIGQUIT, &m_quit, nullptr);
    }

    TerminalSignalsIgnored(const TerminalSignalsIgnored&) = delete;
    TerminalSignalsIgnored& operator=(const TerminalSignalsIgnored&) = delete;
    TerminalSignalsIgnored(TerminalSignalsIgnored&&) = delete;
    TerminalSignalsIgnored& operator=(TerminalSignalsIgnored&&) = delete;

private:
    struct sigaction m_int = {};
    struct sigaction m_quit = {};
};

ProcessOptions launch_options(const LaunchSpec& spec, LaunchMode mode)
{
    ProcessOptions options;
    if (mode == LaunchMode::interactive)
    {
        options.stdin_mode = Stream::inherit;
        options.stdout_mode = Stream::inherit;
        options.stderr_mode = Stream::inherit;
    }
    else
    {
        options.stdin_data = spec.stdin_data;
    }
    return options;
}

// One launch: what was asked and what it resolved to.
struct Launch
{
    const StorePaths& paths;
    const Record& r;
    const LaunchSpec& spec;
    LaunchMode mode;
    const WslConf& conf;
    const GuestUser& user;
};

// A launch inside the running instance (as root): the helper started in the instance's
// namespaces, as WSL starts every command of a distribution in the same ones.
LaunchResult join_instance(const Launch& launch, pid_t init)
{
    const auto& [paths, r, spec, mode, conf, user] = launch;
    const InstanceEntry entry(init);
    if (live_init(paths, r) != init)
    {
        throw UserError(
            fmt::format("{} stopped while the command was being started", r.name), "run it again");
    }
    ProcessOptions options = launch_options(spec, mode);
    options.env_base = EnvBase::empty;
    for (auto& [name, value] : launch_environment(r, conf, user, instance_hostname(conf)))
    {
        options.set_env.emplace(std::move(name), std::move(value));
    }
    UniqueFd answers;
    const std::string answers_target(kAnswersGuestPath);
    if (spec.answers_file)
    {
        answers = detached_bind(fs::absolute(*spec.answers_file));
        // The mount point; an empty file that only this launch sees anything over.
        const fs::path point = paths.instance_runtime(r) / "run"
                               / answers_target.substr(answers_target.find('/', 1) + 1);
        const UniqueFd made(::open(point.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        if (!made)
        {
            throw_errno(fmt::format("creating {}", point.string()));
        }
    }
    options.in_child = entry.enter_hook(answers.get(), answers ? &answers_target : nullptr);
    std::optional<TerminalSignalsIgnored> terminal;
    if (mode == LaunchMode::interactive)
    {
        terminal.emplace();
    }
    const InstanceEntry::PidScope in_instance(entry);
    ProcessResult p = run_process(helper_args(spec, user), options);
    return {.exit_code = p.exit_code, .out = std::move(p.out), .err = std::move(p.err)};
}

} // namespace

bool instance_running(const StorePaths& paths, const Record& record)
{
    return live_init(paths, record).has_value();
}

void stop_instance(const StorePaths& paths, const Record& record)
{
    const UniqueFd lock = lock_runtime(paths, record);
    if (const auto pid = live_init(paths, record))
    {
        // Killing pid 1 of a pid namespace kills every process in it.
        if (::kill(*pid, SIGKILL) != 0 && errno != ESRCH)
        {
            throw_errno(fmt::format("stopping {}", record.name));
        }
        for (int i = 0; i < 200 && live_init(paths, record); ++i)
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    fs::remove_all(paths.instance_runtime(record));
    fs::remove(paths.runtime / (record.id + ".lock"));
}

LaunchResult
run_launch(const StorePaths& paths, const Record& r, const LaunchSpec& spec, LaunchMode mode)
{
    const WslConf conf = read_wsl_conf(r);
    const GuestUser user = launch_user(r, spec, conf);
    const pid_t init = ensure_started(paths, r, conf);
    if (::geteuid() == 0)
    {
        return join_instance(
            {.paths = paths, .r = r, .spec = spec, .mode = mode, .conf = conf, .user = user}, init);
    }
    std::vector<std::string> argv = sandbox_args(paths, r, spec, conf, user);
    ProcessOptions options = launch_options(spec, mode);
    std::optional<TerminalSignalsIgnored> terminal;
    if (mode == LaunchMode::interactive)
    {
        terminal.emplace();
    }
    if (terminal)
    {
        const auto bwrap = find_program(argv.front());
        if (!bwrap)
        {
            throw UserError("cannot run bwrap: program not found", "apt-get install bubblewrap");
        }
        argv.front() = bwrap->string();
        options.in_child = []() noexcept
        {
            (void)::signal(SIGINT, SIG_DFL);
            (void)::signal(SIGQUIT, SIG_DFL);
            return 0;
        };
    }
    ProcessResult p = run_process(argv, options);
    return {.exit_code = p.exit_code, .out = std::move(p.out), .err = std::move(p.err)};
}

} // namespace azl::launcher::sandbox
