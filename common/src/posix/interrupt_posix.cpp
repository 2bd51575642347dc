#include <azl/common/interrupt.hpp>

#include <unistd.h>

#include <array>
#include <atomic>
#include <climits>
#include <csignal>
#include <cstring>

namespace azl
{

namespace
{

// A slot is claimed (`state` 1), filled, then published (`state` 2); the handler only reads
// published slots. Plain arrays and lock-free atomics: nothing the handler touches can
// be mid-allocation.
struct Slot
{
    std::atomic<int> state{0};
    std::array<char, PATH_MAX> path{};
};

constexpr std::size_t kSlots = 64;
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): the handler's state
std::array<Slot, kSlots> g_slots;

static_assert(std::atomic<int>::is_always_lock_free);

void on_signal(int sig)
{
    for (auto& slot : g_slots)
    {
        if (slot.state.load() == 2)
        {
            ::unlink(slot.path.data());
        }
    }
    // Nothing to do if these fail: the handler can only exit as the signal would have.
    (void)::signal(sig, SIG_DFL);
    (void)::raise(sig);
}

} // namespace

void install_interrupt_cleanup()
{
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP})
    {
        struct sigaction old = {};
        // Respect an inherited "ignore" (e.g. nohup): then the signal cannot interrupt us anyway.
        if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN)
        {
            continue;
        }
        ::sigaction(sig, &sa, nullptr);
    }
}

InterruptCleanup::InterruptCleanup(const std::filesystem::path& path) noexcept
{
    const std::string& text = path.native();
    if (text.size() >= PATH_MAX)
    {
        return;
    }
    for (std::size_t i = 0; i < kSlots; ++i)
    {
        int expected = 0;
        if (g_slots.at(i).state.compare_exchange_strong(expected, 1))
        {
            std::memcpy(g_slots.at(i).path.data(), text.c_str(), text.size() + 1);
            g_slots.at(i).state.store(2);
            m_slot = static_cast<int>(i);
            return;
        }
    }
}

InterruptCleanup::~InterruptCleanup()
{
    if (m_slot >= 0)
    {
        g_slots.at(static_cast<std::size_t>(m_slot)).state.store(0);
    }
}

} // namespace azl
