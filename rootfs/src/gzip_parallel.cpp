#include "gzip_parallel.hpp"

#include <azl/common/error.hpp>

#include <algorithm>
#include <array>
#include <new>
#include <stdexcept>

namespace azl::rootfs::detail
{

namespace
{

constexpr std::size_t kHeaderSize = 10;
constexpr std::size_t kTrailerSize = 8;

void put_le32(std::byte* p, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i)
    {
        p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xffU);
    }
}

// One complete gzip member for `in` in `out`; returns its size.
std::size_t compress_member(
    libdeflate_compressor* deflater,
    unsigned char extra_flags,
    std::span<const std::byte> in,
    std::vector<std::byte>& out)
{
    const std::size_t bound = libdeflate_deflate_compress_bound(deflater, in.size());
    if (out.size() < kHeaderSize + bound + kTrailerSize)
    {
        out.resize(kHeaderSize + bound + kTrailerSize);
    }
    // ID1 ID2 CM=deflate FLG=0 MTIME=0 (none: reproducible) XFL OS=3 (Unix).
    const std::array<unsigned char, kHeaderSize> header = {
        0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extra_flags, 3};
    std::transform(
        header.begin(),
        header.end(),
        out.begin(),
        [](unsigned char c) { return static_cast<std::byte>(c); });
    const std::size_t deflated = libdeflate_deflate_compress(
        deflater, in.data(), in.size(), out.data() + kHeaderSize, bound);
    if (deflated == 0)
    {
        // Cannot happen with a buffer of compress_bound() bytes.
        throw std::logic_error("libdeflate output exceeded its own bound");
    }
    std::byte* trailer = out.data() + kHeaderSize + deflated;
    put_le32(trailer, libdeflate_crc32(0, in.data(), in.size()));
    put_le32(trailer + 4, static_cast<std::uint32_t>(in.size())); // ISIZE is the size mod 2^32
    return kHeaderSize + deflated + kTrailerSize;
}

} // namespace

ParallelGzip::ParallelGzip(ByteSink& out, int level, unsigned threads)
    : m_out(out)
    // XFL as gzip sets it: 2 for the slowest levels, 4 for the fastest.
    , m_extra_flags(level >= 9 ? 2 : (level == 1 ? 4 : 0))
    , m_max_in_flight(std::size_t{2} * std::max(threads, 1U))
{
    for (unsigned i = 0; i < std::max(threads, 1U); ++i)
    {
        Deflater d(libdeflate_alloc_compressor(level));
        if (!d)
        {
            throw std::bad_alloc();
        }
        m_deflaters.push_back(std::move(d));
    }
    try
    {
        for (const auto& d : m_deflaters)
        {
            m_workers.emplace_back([this, deflater = d.get()] { run_worker(deflater); });
        }
    }
    catch (...)
    {
        stop_workers();
        throw;
    }
    m_filling = take_free_job();
}

ParallelGzip::~ParallelGzip()
{
    stop_workers();
}

void ParallelGzip::stop_workers() noexcept
{
    {
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_work_ready.notify_all();
    for (auto& t : m_workers)
    {
        if (t.joinable())
        {
            t.join();
        }
    }
}

std::unique_ptr<ParallelGzip::Job> ParallelGzip::take_free_job()
{
    if (m_free.empty())
    {
        auto job = std::make_unique<Job>();
        job->input.resize(kGzipChunkSize);
        return job;
    }
    auto job = std::move(m_free.back());
    m_free.pop_back();
    job->input_size = 0;
    job->output_size = 0;
    job->done = false;
    job->error = nullptr;
    return job;
}

void ParallelGzip::write(std::span<const std::byte> data)
{
    while (!data.empty())
    {
        Job& job = *m_filling;
        const std::size_t n = std::min(data.size(), kGzipChunkSize - job.input_size);
        std::copy_n(
            data.begin(), n, job.input.begin() + static_cast<std::ptrdiff_t>(job.input_size));
        job.input_size += n;
        data = data.subspan(n);
        if (job.input_size == kGzipChunkSize)
        {
            submit_filling();
        }
    }
}

void ParallelGzip::finish()
{
    if (m_filling && m_filling->input_size > 0)
    {
        submit_filling();
    }
    while (!m_in_flight.empty())
    {
        write_oldest();
    }
}

void ParallelGzip::submit_filling()
{
    while (m_in_flight.size() >= m_max_in_flight)
    {
        write_oldest();
    }
    {
        const std::lock_guard lock(m_mutex);
        m_queue.push_back(m_filling.get());
    }
    m_work_ready.notify_one();
    m_in_flight.push_back(std::move(m_filling));
    write_finished();
    m_filling = take_free_job();
}

void ParallelGzip::write_oldest()
{
    Job& job = *m_in_flight.front();
    {
        std::unique_lock lock(m_mutex);
        m_job_done.wait(lock, [&job] { return job.done; });
    }
    if (job.error)
    {
        std::rethrow_exception(job.error);
    }
    m_input_passed_on += job.input_size;
    m_out.write(std::span(job.output.data(), job.output_size));
    m_free.push_back(std::move(m_in_flight.front()));
    m_in_flight.pop_front();
}

// Writes the members that are already compressed, so output flows while workers are busy.
void ParallelGzip::write_finished()
{
    while (!m_in_flight.empty())
    {
        {
            const std::lock_guard lock(m_mutex);
            if (!m_in_flight.front()->done)
            {
                return;
            }
        }
        write_oldest();
    }
}

void ParallelGzip::run_worker(libdeflate_compressor* deflater)
{
    for (;;)
    {
        Job* job = nullptr;
        {
            std::unique_lock lock(m_mutex);
            m_work_ready.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_stopping)
            {
                return;
            }
            job = m_queue.front();
            m_queue.pop_front();
        }
        std::size_t size = 0;
        std::exception_ptr error;
        try
        {
            size = compress_member(
                deflater,
                m_extra_flags,
                std::span(job->input.data(), job->input_size),
                job->output);
        }
        catch (...)
        {
            error = std::current_exception();
        }
        {
            const std::lock_guard lock(m_mutex);
            job->output_size = size;
            job->error = error;
            job->done = true;
        }
        m_job_done.notify_all();
    }
}

} // namespace azl::rootfs::detail
