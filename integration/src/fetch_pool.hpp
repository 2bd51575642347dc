#pragma once
// The token server's host fetches (private to the server): one worker thread per token being
// fetched, single flight (every request for a token being fetched waits for that one call), the
// results handed back to the event loop's thread.

#include <azl/integration/server.hpp>
#include <azl/integration/token.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace azl::integration
{

// One finished fetch: the token or the failure, and every waiter that joined it.
struct FinishedFetch
{
    std::string key;
    std::variant<AccessToken, HostError> outcome;
    std::vector<std::uint64_t> waiters;
};

// The host fetches in flight, at most one per cache key. Every member is for the event loop's
// thread; the workers only run the fetcher and queue their outcome.
class FetchPool
{
public:
    // Fetches with `fetcher`, at most `max_fetches` keys at once; writes to the eventfd
    // `notify_fd` (which must outlive the pool) each time a fetch finishes.
    FetchPool(TokenFetcher fetcher, std::size_t max_fetches, int notify_fd);
    FetchPool(const FetchPool&) = delete;
    FetchPool& operator=(const FetchPool&) = delete;
    FetchPool(FetchPool&&) = delete;
    FetchPool& operator=(FetchPool&&) = delete;
    // Waits for the workers still running.
    ~FetchPool();

    // What join() did with the waiter.
    enum class Joined
    {
        running, // the key was being fetched already: the waiter waits for that call
        started, // a fetch started for it
        full,    // max_fetches other keys are being fetched: nothing started, not waiting
    };

    // Makes `waiter` wait for the token of `key` (`request`'s cache key).
    Joined join(const std::string& key, const TokenRequest& request, std::uint64_t waiter);

    // The fetches finished since the last call, their workers joined.
    [[nodiscard]] std::vector<FinishedFetch> take_finished();

    // Whether no fetch is running.
    [[nodiscard]] bool idle() const noexcept
    {
        return m_running.empty();
    }

private:
    struct Running
    {
        std::thread worker;
        std::vector<std::uint64_t> waiters;
    };

    struct Done
    {
        std::string key;
        std::variant<AccessToken, HostError> outcome;
    };

    void work(const std::string& key, const TokenRequest& request); // on the worker

    TokenFetcher m_fetcher;
    std::size_t m_max_fetches;
    int m_notify_fd;
    std::map<std::string, Running> m_running;
    std::mutex m_done_mutex;
    std::vector<Done> m_done; // guarded by m_done_mutex
};

} // namespace azl::integration
