#include "steps.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/openssl_error.hpp>
#include <azl/common/process.hpp>
#include <azl/common/text.hpp>
#include <azl/oobe/seal.hpp>
#include <azl/oobe/state.hpp>
#include <azl/oobe/status.hpp>

#include <fmt/format.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <vector>

namespace azl::oobe
{

namespace fs = std::filesystem;

namespace
{

constexpr const char* kMachineId = "/etc/machine-id";
constexpr std::array<const char*, 6> kHistories = {
    ".bash_history", ".zsh_history", ".python_history", ".lesshst", ".viminfo", ".wget-hsts"};

bool present(const fs::path& p)
{
    std::error_code ec;
    return fs::exists(fs::symlink_status(p, ec));
}

class Sealer
{
public:
    explicit Sealer(DryRun dry_run)
        : m_dry_run(dry_run)
    {
    }

    void remove(const fs::path& p)
    {
        if (!present(p))
        {
            return;
        }
        fmt::print("  {} {}\n", m_dry_run == DryRun::yes ? "would remove" : "removed", p.string());
        if (m_dry_run == DryRun::no)
        {
            std::error_code ec;
            fs::remove_all(p, ec);
            if (ec)
            {
                throw SystemError(fmt::format("removing {}", p.string()), ec.message());
            }
        }
    }

    void empty(const fs::path& p, unsigned mode)
    {
        std::error_code ec;
        if (!fs::is_regular_file(p, ec) || fs::file_size(p, ec) == 0)
        {
            return;
        }
        fmt::print("  {} {}\n", m_dry_run == DryRun::yes ? "would empty" : "emptied", p.string());
        if (m_dry_run == DryRun::no)
        {
            write_file_atomic(p, "", mode);
        }
    }

    // Every entry of `dir` whose name starts with `prefix`.
    void remove_matching(const fs::path& dir, std::string_view prefix)
    {
        std::error_code ec;
        std::vector<fs::path> found;
        for (const auto& e : fs::directory_iterator(dir, ec))
        {
            if (e.path().filename().string().starts_with(prefix))
            {
                found.push_back(e.path());
            }
        }
        for (const auto& p : found)
        {
            remove(p);
        }
    }

    // Rotated logs and the journal go; the logs themselves are emptied (their owners and modes
    // stay).
    void logs(const fs::path& dir)
    {
        std::error_code ec;
        std::vector<fs::path> rotated;
        std::vector<fs::path> current;
        for (auto it = fs::recursive_directory_iterator(dir, ec);
             it != fs::recursive_directory_iterator();
             it.increment(ec))
        {
            if (ec)
            {
                break;
            }
            if (!it->is_regular_file(ec) || it->is_symlink(ec))
            {
                continue;
            }
            const std::string name = it->path().filename().string();
            const std::string ext = it->path().extension().string();
            const bool is_rotated =
                ext == ".gz" || ext == ".xz" || ext == ".old" || ext == ".journal"
                || ext == ".journal~"
                || (!ext.empty() && ext.find_first_not_of(".0123456789") == std::string::npos);
            (is_rotated ? rotated : current).push_back(it->path());
        }
        for (const auto& p : rotated)
        {
            remove(p);
        }
        for (const auto& p : current)
        {
            empty(p, static_cast<unsigned>(fs::status(p, ec).permissions() & fs::perms::mask));
        }
    }

    void state()
    {
        const State old = State::load(kStateFile);
        State fresh;
        if (old.done("user"))
        {
            fresh.mark_done("user"); // the first user is part of the image: not created again
        }
        fmt::print(
            "  {} first-run state{}\n",
            m_dry_run == DryRun::yes ? "would reset" : "reset",
            old.done("user") ? " (the first user stays)" : "");
        if (m_dry_run == DryRun::no && present(kStateFile))
        {
            fresh.save(kStateFile);
        }
        remove(kStatusFile);
    }

private:
    DryRun m_dry_run;
};

std::string new_machine_id()
{
    std::array<unsigned char, 16> raw{};
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    {
        throw SystemError("generating a machine id", openssl_error_text());
    }
    // A version 4 UUID's bits, as systemd writes it: 32 lowercase hex digits.
    raw[6] = static_cast<unsigned char>((raw[6] & 0x0FU) | 0x40U);
    raw[8] = static_cast<unsigned char>((raw[8] & 0x3FU) | 0x80U);
    return hex_encode(raw);
}

bool machine_id_missing()
{
    std::error_code ec;
    if (!fs::exists(kMachineId, ec))
    {
        return true;
    }
    const std::string text(trim(read_file(kMachineId, 4096)));
    return text.empty() || text == "uninitialized";
}

bool host_keys_missing()
{
    std::error_code ec;
    if (!fs::exists("/etc/ssh/sshd_config", ec) || !find_program("ssh-keygen"))
    {
        return false; // no SSH server: no host keys to make
    }
    const fs::directory_iterator entries("/etc/ssh", ec);
    return std::none_of(
        fs::begin(entries),
        fs::end(entries),
        [](const fs::directory_entry& e)
        {
            const auto name = e.path().filename().string();
            return name.starts_with("ssh_host_") && name.ends_with("_key");
        });
}

} // namespace

void seal_system(DryRun dry_run)
{
    Sealer s(dry_run);
    fmt::print(
        "{} this distribution for cloning:\n", dry_run == DryRun::yes ? "Would seal" : "Sealing");
    s.empty(kMachineId, 0444);
    s.remove("/var/lib/dbus/machine-id");
    s.remove_matching("/etc/ssh", "ssh_host_");
    s.remove_matching("/tmp", "azurelinux-bridge-");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/run/user", ec))
    {
        s.remove(e.path() / "azurelinux-bridge");
    }
    s.state();
    s.logs("/var/log");
    std::vector<fs::path> homes = {"/root"};
    for (const auto& e : fs::directory_iterator("/home", ec))
    {
        homes.push_back(e.path());
    }
    for (const auto& home : homes)
    {
        for (const char* name : kHistories)
        {
            s.remove(home / name);
        }
    }
    fmt::print(
        "{}\n",
        dry_run == DryRun::yes
            ? "Nothing changed (dry run)."
            : "Sealed: each copy gets a new identity and runs first-run setup at its first start.");
}

bool identity_missing()
{
    return machine_id_missing() || host_keys_missing();
}

std::string renew_identity()
{
    std::vector<std::string> done;
    if (machine_id_missing())
    {
        write_file_atomic(kMachineId, new_machine_id() + "\n", 0444);
        done.emplace_back("new machine id");
    }
    if (host_keys_missing())
    {
        detail::run_checked({"ssh-keygen", "-A"}, "generating SSH host keys (ssh-keygen -A)");
        done.emplace_back("new SSH host keys");
    }
    return fmt::format("{}", fmt::join(done, ", "));
}

} // namespace azl::oobe
