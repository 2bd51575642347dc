#include "fetch_pool.hpp"

#include <unistd.h>

namespace azl::integration
{

FetchPool::FetchPool(TokenFetcher fetcher, std::size_t max_fetches, int notify_fd)
    : m_fetcher(std::move(fetcher))
    , m_max_fetches(max_fetches)
    , m_notify_fd(notify_fd)
{
}

FetchPool::~FetchPool()
{
    for (auto& [key, running] : m_running)
    {
        if (running.worker.joinable())
        {
            running.worker.join();
        }
    }
}

FetchPool::Joined
FetchPool::join(const std::string& key, const TokenRequest& request, std::uint64_t waiter)
{
    if (auto it = m_running.find(key); it != m_running.end())
    {
        it->second.waiters.push_back(waiter);
        return Joined::running;
    }
    if (m_running.size() >= m_max_fetches)
    {
        return Joined::full;
    }
    Running& r = m_running[key];
    r.waiters.push_back(waiter);
    r.worker = std::thread([this, key, request] { work(key, request); });
    return Joined::started;
}

void FetchPool::work(const std::string& key, const TokenRequest& request)
{
    Done done{key, AccessToken{}};
    try
    {
        done.outcome = m_fetcher(request);
    }
    catch (const HostError& e)
    {
        done.outcome = e;
    }
    catch (const std::exception& e)
    {
        done.outcome = HostError(HostErrorKind::failed, e.what());
    }
    {
        const std::lock_guard lock(m_done_mutex);
        m_done.push_back(std::move(done));
    }
    const std::uint64_t one = 1;
    // Cannot fail short of a saturated counter, which wakes the loop just as well.
    [[maybe_unused]] const ssize_t woken = ::write(m_notify_fd, &one, sizeof one);
}

std::vector<FinishedFetch> FetchPool::take_finished()
{
    std::vector<Done> done;
    {
        const std::lock_guard lock(m_done_mutex);
        done.swap(m_done);
    }
    std::vector<FinishedFetch> finished;
    finished.reserve(done.size());
    for (auto& d : done)
    {
        auto node = m_running.extract(d.key);
        node.mapped().worker.join();
        finished.push_back(
            {std::move(d.key), std::move(d.outcome), std::move(node.mapped().waiters)});
    }
    return finished;
}

} // namespace azl::integration
