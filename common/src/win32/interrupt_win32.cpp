#include <azl/common/interrupt.hpp>
#include <azl/common/win32/win32.hpp>

#include <array>
#include <atomic>
#include <cstring>

// Windows counterpart of interrupt_posix.cpp. Ctrl-C, Ctrl-Break and closing the console window
// call the handler on a thread of their own; it deletes the registered files and then declines the
// event, so the default handler ends the process with the usual exit status.

namespace azl
{

namespace
{

// A slot is claimed (`state` 1), filled, then published (`state` 2); the handler only reads
// published slots, so it never sees a half-copied path.
struct Slot
{
    std::atomic<int> state{0};
    std::array<wchar_t, 1024> path{};
};

constexpr std::size_t kSlots = 64;
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): the handler's state
std::array<Slot, kSlots> g_slots;

BOOL WINAPI on_console_event(DWORD /*event*/)
{
    for (auto& slot : g_slots)
    {
        if (slot.state.load() == 2)
        {
            ::DeleteFileW(slot.path.data());
        }
    }
    return FALSE; // not handled: the next handler (the default one) ends the process
}

} // namespace

void install_interrupt_cleanup()
{
    ::SetConsoleCtrlHandler(on_console_event, TRUE);
}

InterruptCleanup::InterruptCleanup(const std::filesystem::path& path) noexcept
{
    const std::wstring& text = path.native();
    if (text.size() >= std::tuple_size_v<decltype(Slot::path)>)
    {
        return;
    }
    for (std::size_t i = 0; i < kSlots; ++i)
    {
        int expected = 0;
        if (g_slots.at(i).state.compare_exchange_strong(expected, 1))
        {
            std::memcpy(
                g_slots.at(i).path.data(), text.c_str(), (text.size() + 1) * sizeof(wchar_t));
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
