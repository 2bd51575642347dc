#pragma once
// Parallel gzip with libdeflate: the stream is cut into fixed-size chunks, each compressed on a
// worker thread into its own gzip member (RFC 1952 allows any number of members; `gzip -d`, GNU
// tar, bsdtar and zlib's gzip readers concatenate them). Private header.

#include "compress.hpp"

#include <azl/common/c_ptr.hpp>

#include <libdeflate.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace azl::rootfs::detail
{

// The uncompressed size of every gzip member but the last. Fixed, so the output never depends on
// the number of threads.
inline constexpr std::size_t kGzipChunkSize = std::size_t{1} << 20U;

// Compresses chunks on `threads` workers and writes the members in input order. At most
// 2 × threads chunks are held at once, so memory stays at a few MiB per thread.
class ParallelGzip final : public Compressor
{
public:
    // `level` 1-12 (libdeflate). Throws when a compressor or a thread cannot be created.
    ParallelGzip(ByteSink& out, int level, unsigned threads);
    ~ParallelGzip() override;
    ParallelGzip(const ParallelGzip&) = delete;
    ParallelGzip& operator=(const ParallelGzip&) = delete;
    ParallelGzip(ParallelGzip&&) = delete;
    ParallelGzip& operator=(ParallelGzip&&) = delete;

    void write(std::span<const std::byte> data) override;
    void finish() override;

    [[nodiscard]] std::uint64_t input_passed_on() const noexcept override
    {
        return m_input_passed_on;
    }

private:
    using Deflater = UniqueCPtr<libdeflate_compressor, &libdeflate_free_compressor>;

    struct Job
    {
        std::vector<std::byte> input; // kGzipChunkSize bytes, the first `input_size` used
        std::size_t input_size = 0;
        std::vector<std::byte> output; // one gzip member, `output_size` bytes
        std::size_t output_size = 0;
        bool done = false;
        std::exception_ptr error;
    };

    void submit_filling();
    void write_oldest();
    void write_finished();
    void run_worker(libdeflate_compressor* deflater);
    void stop_workers() noexcept;
    std::unique_ptr<Job> take_free_job();

    ByteSink& m_out;
    std::uint64_t m_input_passed_on = 0;
    unsigned char m_extra_flags;
    std::size_t m_max_in_flight;
    std::unique_ptr<Job> m_filling;
    std::deque<std::unique_ptr<Job>> m_in_flight; // submitted, in output order
    std::vector<std::unique_ptr<Job>> m_free;     // written; their buffers are reused

    std::mutex m_mutex;
    std::condition_variable m_work_ready;
    std::condition_variable m_job_done;
    std::deque<Job*> m_queue; // guarded by m_mutex, as are Job::done and Job::error
    bool m_stopping = false;  // guarded by m_mutex

    std::vector<Deflater> m_deflaters; // one per worker
    std::vector<std::thread> m_workers;
};

} // namespace azl::rootfs::detail
