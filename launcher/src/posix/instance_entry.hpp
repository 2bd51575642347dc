#pragma once
// Entering a running instance the way WSL does: every launch joins the namespaces of the
// instance's pid 1 (mount, pid, ipc, uts), so all of an instance's processes share one file-system
// view, one process tree, one hostname — a mount made in one shell is seen by the next — and a
// launch costs a fork and two execs, not a new sandbox. Needs root (setns); in a user namespace of
// its own the launcher builds a sandbox per launch instead.

#include <azl/common/fs.hpp>

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>

namespace azl::launcher::sandbox
{

// The namespaces and root directory of a running instance, held open.
class InstanceEntry
{
public:
    // Opens them from pid 1 of the instance (`init`, a host pid). Throws UserError when that
    // process is gone; the caller checks afterwards that `init` is still the instance's.
    explicit InstanceEntry(pid_t init);

    // A ProcessOptions::in_child hook: joins the mount, ipc and uts namespaces, makes the
    // instance's root ours and restores SIGINT/SIGQUIT. With `bind_tree` (from detached_bind()),
    // the launch gets a mount namespace of its own in which that file is mounted read-only over
    // `bind_target` (an existing file of the guest) — seen by this launch alone. The hook keeps
    // references to this object and to the path: both must outlive the start.
    [[nodiscard]] std::function<int()>
    enter_hook(int bind_tree = -1, const std::string* bind_target = nullptr) const;

    // Lets setuid programs of the guest work, as on WSL (sudo, su, ping): remounts the instance's
    // root without the nosuid flag bubblewrap puts on every bind mount. Throws SystemError.
    void allow_setuid() const;

    // While alive, this thread's children are born in the instance's pid namespace.
    class PidScope
    {
    public:
        explicit PidScope(const InstanceEntry& entry);
        ~PidScope();
        PidScope(const PidScope&) = delete;
        PidScope& operator=(const PidScope&) = delete;
        PidScope(PidScope&&) = delete;
        PidScope& operator=(PidScope&&) = delete;

    private:
        UniqueFd m_own;
    };

private:
    UniqueFd m_mnt;
    UniqueFd m_pid;
    UniqueFd m_ipc;
    UniqueFd m_uts;
    UniqueFd m_root;
};

// A detached bind mount of the host file `file` (open_tree(2)), for enter_hook().
UniqueFd detached_bind(const std::filesystem::path& file);

} // namespace azl::launcher::sandbox
