// azurelinux-sandbox-exec: the first program the sandbox backend runs inside a distribution. It is
// linked statically and copied into the instance's /run when it starts, so it depends on nothing
// the guest has (or lacks). Every launch execs it in the instance's namespaces. Two modes:
//   init [--hosts HOSTNAME --domain DOMAIN] [--ready-fd FD] [BOOT_COMMAND]
//                         pid 1 of an instance: writes /etc/hosts for HOSTNAME as WSL's init does
//                         ([network] generateHosts), writes a byte to FD (the launcher waits for
//                         it: the instance's mounts are complete once we run), runs /etc/wsl.conf's
//                         [boot] command with /bin/sh -c, then reaps orphans until the instance is
//                         terminated (SIGKILL from outside)
//   exec --uid U --gid G [--groups G1,G2…] [--cwd DIR] [--login] -- PROGRAM ARGS…
//                         drops to the user (setgroups, setresgid, setresuid — as root; the kernel
//                         then drops every capability), changes to DIR (falling back to /, as WSL
//                         does when the directory is missing), and execs PROGRAM (searching PATH);
//                         --login passes argv[0] as "-NAME" so shells read the login profile.
// Run as `wslpath` (init links /bin/wslpath to it, as WSL's init links it to /init), it translates
// paths between Windows and the distribution as WSL's wslpath does: -u (default) Windows to Linux,
// -w Linux to Windows, -m Windows with forward slashes, -a absolute; a drive X: is
// <automount root>/x (/mnt/x unless /etc/wsl.conf's [automount] root says otherwise), other Linux
// paths are \\wsl.localhost\$WSL_DISTRO_NAME\….
// Errors go to stderr as "azurelinux: …" and end with exit 127 (WSL's "cannot run" code).

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace
{

constexpr int kCannotRun = 127;

[[noreturn]] void die(const std::string& what)
{
    (void)std::fprintf(stderr, "azurelinux: %s: %s\n", what.c_str(), std::strerror(errno));
    std::_Exit(kCannotRun);
}

[[noreturn]] void usage(const char* problem)
{
    (void)std::fprintf(
        stderr, "azurelinux-sandbox-exec: %s (this program is run by azurelinux)\n", problem);
    std::_Exit(kCannotRun);
}

unsigned long parse_id(const char* text)
{
    char* end = nullptr;
    errno = 0;
    const unsigned long value = std::strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value > 0xFFFFFFFEUL)
    {
        usage("bad numeric id");
    }
    return value;
}

// /etc/hosts as WSL's init writes it at every start: the loopback names and the instance's own
// hostname (which sudo, for one, looks up), with a header saying how to stop it. A failure is
// reported and the start goes on, as on WSL.
void write_hosts(const std::string& hostname, const std::string& domain)
{
    const std::string text =
        "# Written by azurelinux at every start of this distribution, as WSL does. To keep your\n"
        "# own /etc/hosts instead, add the following entry to /etc/wsl.conf:\n"
        "# [network]\n"
        "# generateHosts = false\n"
        "127.0.0.1\tlocalhost\n"
        "127.0.1.1\t"
        + hostname + "." + domain + "\t" + hostname
        + "\n"
          "\n"
          "# The following lines are desirable for IPv6 capable hosts\n"
          "::1     ip6-localhost ip6-loopback\n"
          "fe00::0 ip6-localnet\n"
          "ff00::0 ip6-mcastprefix\n"
          "ff02::1 ip6-allnodes\n"
          "ff02::2 ip6-allrouters\n";
    const int fd = open("/etc/hosts", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
    std::size_t done = 0;
    while (fd >= 0 && done < text.size())
    {
        const ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (fd < 0 || done < text.size())
    {
        (void)std::fprintf(stderr, "azurelinux: writing /etc/hosts: %s\n", std::strerror(errno));
    }
    if (fd >= 0)
    {
        (void)close(fd);
    }
}

// [automount] root of /etc/wsl.conf, with a trailing slash ("/mnt/" when unset).
std::string automount_root()
{
    std::ifstream in("/etc/wsl.conf");
    std::string section;
    std::string root = "/mnt/";
    for (std::string line; std::getline(in, line);)
    {
        const auto trim = [](const std::string& s)
        {
            const auto first = s.find_first_not_of(" \t\r");
            const auto last = s.find_last_not_of(" \t\r");
            return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
        };
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == ';')
        {
            continue;
        }
        if (line.front() == '[' && line.back() == ']')
        {
            section = trim(line.substr(1, line.size() - 2));
            for (char& c : section)
            {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            continue;
        }
        const auto eq = line.find('=');
        if (section == "automount" && eq != std::string::npos && trim(line.substr(0, eq)) == "root")
        {
            root = trim(line.substr(eq + 1));
            if (root.size() >= 2 && (root.front() == '"' || root.front() == '\''))
            {
                root = root.substr(1, root.size() - 2);
            }
        }
    }
    if (root.empty() || root.back() != '/')
    {
        root += '/';
    }
    return root;
}

[[noreturn]] void wslpath_usage()
{
    (void)std::fputs(
        "Usage:\n"
        "    -a    force result to absolute path format\n"
        "    -u    translate from a Windows path to a WSL path (default)\n"
        "    -w    translate from a WSL path to a Windows path\n"
        "    -m    translate from a WSL path to a Windows path, with '/' instead of '\\'\n\n"
        "EX: wslpath 'c:\\users'\n",
        stderr);
    std::_Exit(1);
}

[[noreturn]] void wslpath_invalid(const char* path)
{
    (void)std::fprintf(stderr, "wslpath: %s: %s\n", path, std::strerror(EINVAL));
    std::_Exit(1);
}

std::string current_directory()
{
    std::string cwd(4096, '\0');
    if (getcwd(cwd.data(), cwd.size()) == nullptr)
    {
        die("reading the current directory");
    }
    cwd.resize(std::strlen(cwd.c_str()));
    return cwd;
}

int run_wslpath(int argc, char** argv)
{
    char mode = 'u';
    bool absolute = false;
    const char* path = nullptr;
    for (int i = 1; i < argc; ++i)
    {
        const std::string_view a = argv[i];
        if (a.size() >= 2 && a[0] == '-' && path == nullptr)
        {
            for (const char c : a.substr(1))
            {
                if (c == 'a')
                {
                    absolute = true;
                }
                else if (c == 'u' || c == 'w' || c == 'm')
                {
                    mode = c;
                }
                else
                {
                    wslpath_usage();
                }
            }
        }
        else if (path == nullptr)
        {
            path = argv[i];
        }
        else
        {
            wslpath_usage();
        }
    }
    if (path == nullptr)
    {
        wslpath_usage();
    }
    const std::string root = automount_root();
    std::string in = path;
    std::string out;
    if (mode == 'u')
    {
        for (char& c : in)
        {
            c = c == '\\' ? '/' : c;
        }
        if (in.size() >= 2 && std::isalpha(static_cast<unsigned char>(in[0])) != 0 && in[1] == ':')
        {
            if (in.size() > 2 && in[2] != '/')
            {
                wslpath_invalid(path); // "C:foo": relative to a drive's current directory
            }
            out = root + static_cast<char>(std::tolower(static_cast<unsigned char>(in[0])));
            out += in.size() > 3 ? in.substr(2) : std::string();
        }
        else if (in.starts_with("//"))
        {
            const char* env_distro = std::getenv("WSL_DISTRO_NAME");
            const std::string distro = env_distro != nullptr ? env_distro : "";
            for (const std::string_view host : {"//wsl.localhost/", "//wsl$/"})
            {
                const std::string prefix = std::string(host) + distro;
                if (!distro.empty() && in.starts_with(prefix)
                    && (in.size() == prefix.size() || in[prefix.size()] == '/'))
                {
                    out = in.size() == prefix.size() ? "/" : in.substr(prefix.size());
                }
            }
            if (out.empty())
            {
                wslpath_invalid(path);
            }
        }
        else if (in.starts_with("/"))
        {
            wslpath_invalid(path); // a rooted path without a drive
        }
        else
        {
            out = absolute ? current_directory() + "/" + in : in;
        }
    }
    else
    {
        if (!in.starts_with("/"))
        {
            in = current_directory() + "/" + in;
        }
        if (in.starts_with(root) && in.size() > root.size()
            && std::isalpha(static_cast<unsigned char>(in[root.size()])) != 0
            && (in.size() == root.size() + 1 || in[root.size() + 1] == '/'))
        {
            out = static_cast<char>(std::toupper(static_cast<unsigned char>(in[root.size()])));
            out += ':';
            out += in.size() > root.size() + 2 ? in.substr(root.size() + 1) : "/";
        }
        else
        {
            const char* distro = std::getenv("WSL_DISTRO_NAME");
            if (distro == nullptr || *distro == '\0')
            {
                wslpath_invalid(path);
            }
            out = std::string("//wsl.localhost/") + distro + in;
        }
        if (mode == 'w')
        {
            for (char& c : out)
            {
                c = c == '/' ? '\\' : c;
            }
        }
    }
    (void)std::printf("%s\n", out.c_str());
    return 0;
}

// /bin/wslpath, as WSL's init makes it at every start (a link to itself there, /init). A link
// left by WSL or an older instance is replaced; a real program of the distribution's is kept.
void link_wslpath(const char* self)
{
    struct stat st
    {
    };

    if (lstat("/bin/wslpath", &st) == 0)
    {
        if (!S_ISLNK(st.st_mode))
        {
            return;
        }
        (void)unlink("/bin/wslpath");
    }
    if (symlink(self, "/bin/wslpath") != 0)
    {
        (void)std::fprintf(stderr, "azurelinux: linking /bin/wslpath: %s\n", std::strerror(errno));
    }
}

int run_init(int argc, char** argv)
{
    // SIGCHLD stays blocked and is waited for, so no child exit between two waits is missed.
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, nullptr) != 0)
    {
        die("blocking SIGCHLD");
    }
    int boot = 2;
    if (argc > boot + 3 && std::string_view(argv[boot]) == "--hosts"
        && std::string_view(argv[boot + 2]) == "--domain")
    {
        write_hosts(argv[boot + 1], argv[boot + 3]);
        boot += 4;
    }
    link_wslpath("/run/azurelinux/sandbox-exec");
    if (argc > boot + 1 && std::string_view(argv[boot]) == "--ready-fd")
    {
        const int fd = static_cast<int>(parse_id(argv[boot + 1]));
        if (write(fd, "1", 1) != 1 || close(fd) != 0)
        {
            die("telling the launcher the instance runs");
        }
        boot += 2;
    }
    if (argc > boot)
    {
        const pid_t child = fork();
        if (child < 0)
        {
            die("starting the boot command");
        }
        if (child == 0)
        {
            sigprocmask(SIG_UNBLOCK, &chld, nullptr);
            execl("/bin/sh", "sh", "-c", argv[boot], static_cast<char*>(nullptr));
            die("running the boot command with /bin/sh");
        }
    }
    // Orphans of every session are re-parented to us: reap them so none stays a zombie. Signals
    // sent to pid 1 from inside the namespace are ignored; only SIGKILL from the host (terminate)
    // ends the instance, as on WSL.
    for (;;)
    {
        while (waitpid(-1, nullptr, WNOHANG) > 0)
        {
        }
        siginfo_t info;
        sigwaitinfo(&chld, &info);
    }
}

struct ExecArgs
{
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
    const char* cwd = nullptr;
    bool login = false;
    int program = -1; // index in argv
};

ExecArgs parse_exec(int argc, char** argv)
{
    ExecArgs a;
    bool have_uid = false;
    bool have_gid = false;
    for (int i = 2; i < argc; ++i)
    {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--")
        {
            a.program = i + 1;
            break;
        }
        if (arg == "--login")
        {
            a.login = true;
        }
        else if (arg == "--uid" && has_value)
        {
            a.uid = static_cast<uid_t>(parse_id(argv[++i]));
            have_uid = true;
        }
        else if (arg == "--gid" && has_value)
        {
            a.gid = static_cast<gid_t>(parse_id(argv[++i]));
            have_gid = true;
        }
        else if (arg == "--cwd" && has_value)
        {
            a.cwd = argv[++i];
        }
        else if (arg == "--groups" && has_value)
        {
            std::string list = argv[++i];
            std::size_t start = 0;
            while (start < list.size())
            {
                const std::size_t comma = list.find(',', start);
                const std::string item = list.substr(start, comma - start);
                if (!item.empty())
                {
                    a.groups.push_back(static_cast<gid_t>(parse_id(item.c_str())));
                }
                start = comma == std::string::npos ? list.size() : comma + 1;
            }
        }
        else
        {
            usage("unknown option");
        }
    }
    if (!have_uid || !have_gid || a.program < 0 || a.program >= argc)
    {
        usage("exec needs --uid, --gid and -- PROGRAM");
    }
    return a;
}

int run_exec(int argc, char** argv)
{
    const ExecArgs a = parse_exec(argc, argv);
    // As root: become the user. In a user namespace we already are the user (bwrap --uid/--gid).
    if (geteuid() == 0 && a.uid != 0)
    {
        if (setgroups(a.groups.size(), a.groups.data()) != 0)
        {
            die("setting the supplementary groups");
        }
        if (setresgid(a.gid, a.gid, a.gid) != 0)
        {
            die("switching to gid " + std::to_string(a.gid));
        }
        if (setresuid(a.uid, a.uid, a.uid) != 0)
        {
            die("switching to uid " + std::to_string(a.uid));
        }
    }
    else if (geteuid() == 0 && getuid() == 0 && !a.groups.empty())
    {
        if (setgroups(a.groups.size(), a.groups.data()) != 0 && errno != EPERM)
        {
            die("setting the supplementary groups");
        }
    }
    // Checked as the user: a home it cannot enter falls back to /, as WSL does.
    if (a.cwd != nullptr && chdir(a.cwd) != 0)
    {
        (void)std::fprintf(
            stderr,
            "azurelinux: cannot change to %s: %s; starting in /\n",
            a.cwd,
            std::strerror(errno));
        if (chdir("/") != 0)
        {
            die("changing to /");
        }
    }
    char* program = argv[a.program];
    std::string login_name;
    if (a.login)
    {
        const char* slash = std::strrchr(program, '/');
        login_name = std::string("-") + (slash != nullptr ? slash + 1 : program);
        argv[a.program] = login_name.data();
    }
    execvp(program, argv + a.program);
    die(std::string("cannot run ") + program);
}

} // namespace

int main(int argc, char** argv)
{
    const std::string_view name = argv[0] != nullptr ? argv[0] : "";
    if (name == "wslpath" || name.ends_with("/wslpath"))
    {
        return run_wslpath(argc, argv);
    }
    if (argc < 2)
    {
        usage("missing mode");
    }
    const std::string_view mode = argv[1];
    if (mode == "init")
    {
        return run_init(argc, argv);
    }
    if (mode == "exec")
    {
        return run_exec(argc, argv);
    }
    usage("unknown mode");
}
