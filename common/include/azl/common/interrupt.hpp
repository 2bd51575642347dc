#pragma once

#include <filesystem>

namespace azl
{

// Makes SIGINT, SIGTERM and SIGHUP remove every registered temporary file before the process dies
// (the default action then proceeds: same exit status as without us). Executables call it once.
void install_interrupt_cleanup();

// Registers a temporary file for removal on interruption while this object lives. Async-signal-safe
// bookkeeping in a fixed table; when the table is full the file is simply not registered.
class InterruptCleanup
{
public:
    // Registers `path`.
    explicit InterruptCleanup(const std::filesystem::path& path) noexcept;
    InterruptCleanup(const InterruptCleanup&) = delete;
    InterruptCleanup& operator=(const InterruptCleanup&) = delete;
    InterruptCleanup(InterruptCleanup&&) = delete;
    InterruptCleanup& operator=(InterruptCleanup&&) = delete;
    // Unregisters it (the owner has removed or renamed it).
    ~InterruptCleanup();

private:
    int m_slot = -1;
};

} // namespace azl
