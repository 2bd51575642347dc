// setns(2) into a running instance; see instance_entry.hpp.
#include "instance_entry.hpp"

#include <azl/common/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace azl::launcher::sandbox
{

namespace
{

UniqueFd open_of(pid_t init, const char* what, int flags)
{
    UniqueFd fd(::open(fmt::format("/proc/{}/{}", init, what).c_str(), flags | O_CLOEXEC));
    if (!fd)
    {
        if (errno == ENOENT || errno == ESRCH)
        {
            throw UserError(
                "the instance stopped while the command was being started", "run it again");
        }
        throw_errno(fmt::format("opening the instance's {}", what));
    }
    return fd;
}

// Runs in the forked child: async-signal-safe calls only, no allocation.
int enter(
    int mnt, int ipc, int uts, int root, int bind_tree, const std::string* bind_target) noexcept
{
    if (::setns(ipc, CLONE_NEWIPC) != 0 || ::setns(uts, CLONE_NEWUTS) != 0
        || ::setns(mnt, CLONE_NEWNS) != 0)
    {
        return errno;
    }
    // setns(CLONE_NEWNS) already moves us to the namespace's root; the root of pid 1 is what
    // the instance's processes see, whatever the namespace's mount tree looks like underneath.
    if (::fchdir(root) != 0 || ::chroot(".") != 0 || ::chdir("/") != 0)
    {
        return errno;
    }
    if (bind_tree >= 0 && bind_target != nullptr)
    {
        // A private copy of the instance's mounts, so the file is this launch's alone. The file
        // comes as a detached mount (open_tree) made in the launcher's namespace: a plain bind
        // from a path of another mount namespace is refused.
        const char* target = bind_target->c_str();
        if (::unshare(CLONE_NEWNS) != 0
            || ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0
            || ::move_mount(bind_tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0
            || ::mount(
                   nullptr,
                   target,
                   nullptr,
                   MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                   nullptr)
                   != 0)
        {
            return errno;
        }
    }
    // The launcher ignores the terminal's signals while the command runs; the command must not.
    (void)::signal(SIGINT, SIG_DFL); // cannot fail for a valid signal and handler
    (void)::signal(SIGQUIT, SIG_DFL);
    return 0;
}

} // namespace

InstanceEntry::InstanceEntry(pid_t init)
    : m_mnt(open_of(init, "ns/mnt", O_RDONLY))
    , m_pid(open_of(init, "ns/pid", O_RDONLY))
    , m_ipc(open_of(init, "ns/ipc", O_RDONLY))
    , m_uts(open_of(init, "ns/uts", O_RDONLY))
    , m_root(open_of(init, "root", O_RDONLY | O_DIRECTORY))
{
}

std::function<int()> InstanceEntry::enter_hook(int bind_tree, const std::string* bind_target) const
{
    return [this, bind_tree, bind_target]() noexcept
    { return enter(m_mnt.get(), m_ipc.get(), m_uts.get(), m_root.get(), bind_tree, bind_target); };
}

UniqueFd detached_bind(const std::filesystem::path& file)
{
    UniqueFd tree(::open_tree(AT_FDCWD, file.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!tree)
    {
        throw_errno(fmt::format("opening {}", file.string()));
    }
    return tree;
}

void InstanceEntry::allow_setuid() const
{
    const std::function<int()> enter_it = enter_hook();
    const pid_t child = ::fork();
    if (child < 0)
    {
        throw_errno("starting a process in the instance");
    }
    if (child == 0)
    {
        int err = enter_it();
        if (err == 0
            && ::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_NODEV, nullptr) != 0)
        {
            err = errno;
        }
        ::_exit(err);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0)
    {
        if (errno != EINTR)
        {
            throw_errno("waiting for a process in the instance");
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    {
        throw SystemError::from_errno(
            "allowing setuid programs in the instance",
            WIFEXITED(status) ? WEXITSTATUS(status) : EINTR);
    }
}

InstanceEntry::PidScope::PidScope(const InstanceEntry& entry)
    : m_own(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC))
{
    if (!m_own)
    {
        throw_errno("opening our pid namespace");
    }
    if (::setns(entry.m_pid.get(), CLONE_NEWPID) != 0)
    {
        throw_errno("joining the instance's pid namespace");
    }
}

InstanceEntry::PidScope::~PidScope()
{
    // Back to ours (an ancestor of the instance's, so always allowed) for later children.
    (void)::setns(m_own.get(), CLONE_NEWPID);
}

} // namespace azl::launcher::sandbox
