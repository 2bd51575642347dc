#pragma once

#include <azl/common/error.hpp>

namespace azl::oobe
{

// The person pressed Ctrl-C (or the session was closed): nothing half-done is left, exit non-zero.
class Interrupted : public UserError
{
public:
    Interrupted()
        : UserError(
            "first-run setup was interrupted; nothing half-done was left behind",
            "it runs again on the next launch")
    {
    }
};

// Turns SIGINT, SIGTERM and SIGHUP into a flag for the scope's duration, so the current step can
// finish or roll back instead of dying half-way; restores the previous handlers afterwards.
class InterruptFlag
{
public:
    InterruptFlag();
    InterruptFlag(const InterruptFlag&) = delete;
    InterruptFlag& operator=(const InterruptFlag&) = delete;
    InterruptFlag(InterruptFlag&&) = delete;
    InterruptFlag& operator=(InterruptFlag&&) = delete;
    ~InterruptFlag();
};

// Whether a signal arrived since the InterruptFlag was installed.
bool interrupted() noexcept;

// Throws Interrupted when a signal arrived.
void throw_if_interrupted();

} // namespace azl::oobe
