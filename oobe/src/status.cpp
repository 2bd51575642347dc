#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/oobe/state.hpp>
#include <azl/oobe/status.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace azl::oobe
{

namespace fs = std::filesystem;
using nlohmann::json;

namespace
{

// One line a login shell prints after a failed setup (a sh script: every login shell reads it).
constexpr std::string_view kNoticeScript =
    R"sh(# Written by azurelinux-oobe: one line at login when first-run setup failed.
if [ -r /var/lib/azurelinux-oobe/status.json ] &&
    grep -q '"state":"failed"' /var/lib/azurelinux-oobe/status.json 2>/dev/null; then
    azl_oobe_step=$(sed -n 's/.*"step":"\([a-z_]*\)".*/\1/p' /var/lib/azurelinux-oobe/status.json)
    echo "First-run setup failed at step ${azl_oobe_step:-unknown}; retry with: sudo /usr/lib/wsl/azurelinux-oobe (or from Windows: azurelinux setup); log: /var/log/azurelinux-oobe.log" >&2
    unset azl_oobe_step
fi
)sh";

SetupState state_from(std::string_view name)
{
    if (name == "running")
    {
        return SetupState::running;
    }
    if (name == "done")
    {
        return SetupState::done;
    }
    if (name == "failed")
    {
        return SetupState::failed;
    }
    return SetupState::not_started;
}

StatusReport read_file_status(const fs::path& file)
{
    StatusReport report;
    std::error_code ec;
    if (!fs::exists(file, ec))
    {
        return report;
    }
    try
    {
        const json doc = json::parse(read_file(file, 1U << 16U));
        report.state = state_from(doc.value("state", ""));
        report.step = doc.value("step", "");
        report.reason = doc.value("reason", "");
    }
    catch (const json::exception& e)
    {
        throw UserError(
            fmt::format("{}: corrupt status file: {}", file.string(), e.what()),
            "run first-run setup again: sudo /usr/lib/wsl/azurelinux-oobe");
    }
    return report;
}

void ensure_state_dir(const fs::path& dir)
{
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    {
        throw_errno(fmt::format("creating {}", dir.string()));
    }
    // An older version made it 0700: the status and the lock must be readable by every user (the
    // state file in it stays 0600).
    if (::chmod(dir.c_str(), 0755) != 0)
    {
        throw_errno(fmt::format("making {} readable", dir.string()));
    }
}

} // namespace

std::string_view state_name(SetupState state) noexcept
{
    switch (state)
    {
    case SetupState::not_started:
        return "not started";
    case SetupState::running:
        return "running";
    case SetupState::done:
        return "done";
    case SetupState::failed:
        return "failed";
    }
    return "not started";
}

StatusReport read_status(WaitForSetup wait, const fs::path& dir)
{
    const fs::path lock = dir / fs::path(kRunLock).filename();
    const UniqueFd fd(::open(lock.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    bool running = false;
    if (fd)
    {
        const int op = wait == WaitForSetup::yes ? LOCK_SH : (LOCK_SH | LOCK_NB);
        int rc = 0;
        while ((rc = ::flock(fd.get(), op)) != 0 && errno == EINTR)
        {
        }
        if (rc != 0 && errno != EWOULDBLOCK)
        {
            throw_errno(fmt::format("locking {}", lock.string()));
        }
        running = rc != 0;
    }
    StatusReport report = read_file_status(dir / fs::path(kStatusFile).filename());
    std::error_code ec;
    if (!fs::exists(dir / fs::path(kStatusFile).filename(), ec) && ::geteuid() == 0)
    {
        // Set up by a version without the status file: its state file says whether it finished.
        const State state = State::load(dir / "state.json");
        if (state.finished)
        {
            report.state = SetupState::done;
        }
    }
    if (running)
    {
        report.state = SetupState::running;
    }
    else if (report.state == SetupState::running)
    {
        report.state = SetupState::failed; // killed: nobody holds the lock
        report.reason = "stopped while running";
    }
    return report;
}

int status_exit_code(const StatusReport& report) noexcept
{
    switch (report.state)
    {
    case SetupState::done:
        return 0;
    case SetupState::failed:
        return 3;
    case SetupState::not_started:
    case SetupState::running:
        return 4;
    }
    return 4;
}

RunStatus::RunStatus()
    : m_file(kStatusFile)
{
    ensure_state_dir(fs::path(kStatusFile).parent_path());
    m_lock = UniqueFd(::open(kRunLock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!m_lock)
    {
        throw_errno(fmt::format("opening {}", kRunLock));
    }
    if (::flock(m_lock.get(), LOCK_EX | LOCK_NB) != 0)
    {
        if (errno == EWOULDBLOCK)
        {
            throw UserError(
                "first-run setup is already running", "wait for it: azurelinux-oobe status --wait");
        }
        throw_errno(fmt::format("locking {}", kRunLock));
    }
    fs::create_directories(fs::path(kLoginNotice).parent_path());
    write_file_atomic(kLoginNotice, kNoticeScript, 0644);
}

void RunStatus::set(SetupState state, std::string_view step, std::string_view reason)
{
    // One compact line: the login notice reads it with grep and sed.
    const json doc{
        {"state", state == SetupState::not_started ? "not_started" : state_name(state)},
        {"step", step},
        {"reason", reason}};
    write_file_atomic(m_file, doc.dump() + "\n", 0644);
}

} // namespace azl::oobe
