#include "interrupt.hpp"

#include <array>
#include <csignal>

namespace azl::oobe
{

namespace
{

// Signal handlers can only reach static storage; this flag is the one piece of it.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): set by the handler
volatile std::sig_atomic_t g_interrupted = 0;

constexpr std::array kSignals = {SIGINT, SIGTERM, SIGHUP};

// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): restored on uninstall
std::array<struct sigaction, kSignals.size()> g_previous{};

extern "C" void on_signal(int /*signo*/)
{
    g_interrupted = 1;
}

} // namespace

InterruptFlag::InterruptFlag()
{
    g_interrupted = 0;
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: a blocking read() returns EINTR and the prompt can stop
    for (std::size_t i = 0; i < kSignals.size(); ++i)
    {
        ::sigaction(kSignals.at(i), &sa, &g_previous.at(i));
    }
}

InterruptFlag::~InterruptFlag()
{
    for (std::size_t i = 0; i < kSignals.size(); ++i)
    {
        ::sigaction(kSignals.at(i), &g_previous.at(i), nullptr);
    }
}

bool interrupted() noexcept
{
    return g_interrupted != 0;
}

void throw_if_interrupted()
{
    if (interrupted())
    {
        throw Interrupted();
    }
}

} // namespace azl::oobe
