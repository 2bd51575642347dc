#pragma once
// The project's one rollback idiom: undo a change when the step it belongs to does not finish.
//
//     create_account(user);
//     ScopeGuard undo([&] { remove_account(user); });
//     … every further part of the step …
//     undo.dismiss(); // the step is complete: keep the account
//
// The undo action runs on the way out of an exception (or an early return); what it throws itself
// is dropped, so the error that stopped the step is the one reported.

#include <type_traits>
#include <utility>

namespace azl
{

// Runs its action when it goes out of scope, unless dismiss() was called first.
template <class Undo>
class [[nodiscard]] ScopeGuard
{
public:
    explicit ScopeGuard(Undo undo) noexcept(std::is_nothrow_move_constructible_v<Undo>)
        : m_undo(std::move(undo))
    {
    }

    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    ScopeGuard(ScopeGuard&&) = delete;
    ScopeGuard& operator=(ScopeGuard&&) = delete;

    ~ScopeGuard()
    {
        if (!m_dismissed)
        {
            try
            {
                m_undo();
            }
            catch (...)
            {
                // Dropped: the error that stopped the step is the one to report.
            }
        }
    }

    // The step succeeded: the action will not run.
    void dismiss() noexcept
    {
        m_dismissed = true;
    }

private:
    Undo m_undo;
    bool m_dismissed = false;
};

} // namespace azl
