#include "compress.hpp"

#include "gzip_parallel.hpp"

#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>

#include <fmt/format.h>
#include <zstd.h>

#include <lzma.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace azl::rootfs::detail
{

namespace
{

struct LevelRange
{
    int min;
    int max;
    int fallback;
};

constexpr LevelRange level_range(Compression compression)
{
    switch (compression)
    {
    case Compression::gzip:
        return {1, 12, 6}; // libdeflate's levels; 10-12 are slower than gzip -9 but smaller
    case Compression::xz:
        return {0, 9, 6};
    case Compression::zstd:
        return {1, 19, 3}; // 20-22 need "ultra" mode and hundreds of MiB of memory
    case Compression::none:
        break;
    }
    return {0, 0, 0};
}

constexpr std::size_t kOutputBufferSize = 1U << 20U;

// Collects small writes (512-byte tar headers) so the file gets large write() calls.
class PlainOutput final : public Compressor
{
public:
    explicit PlainOutput(ByteSink& out)
        : m_out(out)
    {
        m_buffer.reserve(kOutputBufferSize);
    }

    void write(std::span<const std::byte> data) override
    {
        if (m_buffer.size() + data.size() > kOutputBufferSize)
        {
            flush();
        }
        if (data.size() >= kOutputBufferSize)
        {
            m_out.write(data);
            return;
        }
        m_buffer.insert(m_buffer.end(), data.begin(), data.end());
    }

    void finish() override
    {
        flush();
    }

private:
    void flush()
    {
        if (!m_buffer.empty())
        {
            m_out.write(m_buffer);
            m_buffer.clear();
        }
    }

    ByteSink& m_out;
    std::vector<std::byte> m_buffer;
};

using ZstdContext = UniqueCPtr<ZSTD_CCtx, &ZSTD_freeCCtx>;

void check_zstd(std::size_t rc, const char* what)
{
    if (ZSTD_isError(rc) != 0U)
    {
        throw SystemError(what, ZSTD_getErrorName(rc));
    }
}

// zstd in multi-threaded mode, even for one thread: its output then depends only on the level and
// the job size (derived from the level), so every thread count gives the same bytes.
class ZstdCompressor final : public Compressor
{
public:
    ZstdCompressor(ByteSink& out, int level, unsigned threads)
        : m_out(out)
        , m_ctx(ZSTD_createCCtx())
        , m_buffer(ZSTD_CStreamOutSize())
    {
        if (!m_ctx)
        {
            throw SystemError("setting up zstd compression", "out of memory");
        }
        check_zstd(
            ZSTD_CCtx_setParameter(m_ctx.get(), ZSTD_c_compressionLevel, level),
            "setting the zstd level");
        check_zstd(
            ZSTD_CCtx_setParameter(m_ctx.get(), ZSTD_c_checksumFlag, 1), "enabling zstd checksums");
        check_zstd(
            ZSTD_CCtx_setParameter(m_ctx.get(), ZSTD_c_nbWorkers, static_cast<int>(threads)),
            "starting zstd worker threads");
    }

    void write(std::span<const std::byte> data) override
    {
        ZSTD_inBuffer in{data.data(), data.size(), 0};
        while (in.pos < in.size)
        {
            drive(in, ZSTD_e_continue);
        }
    }

    void finish() override
    {
        ZSTD_inBuffer in{nullptr, 0, 0};
        while (drive(in, ZSTD_e_end) != 0)
        {
        }
    }

private:
    std::size_t drive(ZSTD_inBuffer& in, ZSTD_EndDirective mode)
    {
        ZSTD_outBuffer out{m_buffer.data(), m_buffer.size(), 0};
        const std::size_t rc = ZSTD_compressStream2(m_ctx.get(), &out, &in, mode);
        check_zstd(rc, "compressing with zstd");
        if (out.pos > 0)
        {
            m_out.write(std::span(m_buffer.data(), out.pos));
        }
        return rc;
    }

    ByteSink& m_out;
    ZstdContext m_ctx;
    std::vector<std::byte> m_buffer;
};

std::string lzma_message(lzma_ret rc)
{
    switch (rc)
    {
    case LZMA_MEM_ERROR:
        return "cannot allocate memory";
    case LZMA_MEMLIMIT_ERROR:
        return "memory usage limit reached";
    case LZMA_OPTIONS_ERROR:
        return "unsupported compression options";
    case LZMA_UNSUPPORTED_CHECK:
        return "unsupported integrity check";
    case LZMA_DATA_ERROR:
        return "data error";
    case LZMA_BUF_ERROR:
        return "no progress possible";
    case LZMA_PROG_ERROR:
        return "programming error in the caller of liblzma";
    default:
        return fmt::format("liblzma error {}", static_cast<int>(rc));
    }
}

// Owns an lzma_stream.
struct LzmaStream
{
    lzma_stream stream{};
    LzmaStream() = default;
    LzmaStream(const LzmaStream&) = delete;
    LzmaStream& operator=(const LzmaStream&) = delete;
    LzmaStream(LzmaStream&&) = delete;
    LzmaStream& operator=(LzmaStream&&) = delete;

    ~LzmaStream()
    {
        lzma_end(&stream);
    }
};

// liblzma's multi-threaded encoder, even for one thread: it cuts the input into blocks whose size
// depends only on the preset, so every thread count gives the same bytes (libarchive's xz filter
// switches to a differently framed single-threaded encoder for one thread, and
// caps the level at 6).
class XzCompressor final : public Compressor
{
public:
    XzCompressor(ByteSink& out, int level, unsigned threads)
        : m_out(out)
        , m_buffer(kOutputBufferSize)
    {
        lzma_mt mt{};
        mt.threads = threads;
        mt.block_size = 0;
        mt.timeout = 0;
        mt.preset = static_cast<std::uint32_t>(level);
        mt.check = LZMA_CHECK_CRC64;
        const lzma_ret rc = lzma_stream_encoder_mt(&m_lzma.stream, &mt);
        if (rc != LZMA_OK)
        {
            throw SystemError("setting up xz compression", lzma_message(rc));
        }
    }

    void write(std::span<const std::byte> data) override
    {
        m_lzma.stream.next_in = reinterpret_cast<const std::uint8_t*>(data.data());
        m_lzma.stream.avail_in = data.size();
        while (m_lzma.stream.avail_in > 0)
        {
            drive(LZMA_RUN);
        }
    }

    void finish() override
    {
        while (drive(LZMA_FINISH) != LZMA_STREAM_END)
        {
        }
    }

private:
    lzma_ret drive(lzma_action action)
    {
        m_lzma.stream.next_out = reinterpret_cast<std::uint8_t*>(m_buffer.data());
        m_lzma.stream.avail_out = m_buffer.size();
        const lzma_ret rc = lzma_code(&m_lzma.stream, action);
        if (rc != LZMA_OK && rc != LZMA_STREAM_END)
        {
            throw SystemError("compressing with xz", lzma_message(rc));
        }
        const std::size_t produced = m_buffer.size() - m_lzma.stream.avail_out;
        if (produced > 0)
        {
            m_out.write(std::span(m_buffer.data(), produced));
        }
        return rc;
    }

    ByteSink& m_out;
    LzmaStream m_lzma;
    std::vector<std::byte> m_buffer;
};

} // namespace

int resolve_level(Compression compression, std::optional<int> level)
{
    if (compression == Compression::none)
    {
        if (level)
        {
            throw UserError(
                fmt::format("--level {} does not apply to an uncompressed archive", *level),
                "drop --level, or choose --compression gzip, xz or zstd");
        }
        return 0;
    }
    const LevelRange range = level_range(compression);
    if (!level)
    {
        return range.fallback;
    }
    if (*level < range.min || *level > range.max)
    {
        throw UserError(
            fmt::format(
                "--level {} is out of range for {} ({}-{})",
                *level,
                compression_name(compression),
                range.min,
                range.max),
            fmt::format("omit --level to use the default ({})", range.fallback));
    }
    return *level;
}

unsigned resolve_threads(unsigned requested)
{
    // More threads than this only add memory (each holds its own buffers and match finder).
    constexpr unsigned kMaxThreads = 32;
    const unsigned n = requested != 0 ? requested : std::thread::hardware_concurrency();
    return std::clamp(n, 1U, kMaxThreads);
}

std::unique_ptr<Compressor>
make_compressor(Compression compression, int level, unsigned threads, ByteSink& out)
{
    switch (compression)
    {
    case Compression::gzip:
        return std::make_unique<ParallelGzip>(out, level, threads);
    case Compression::xz:
        return std::make_unique<XzCompressor>(out, level, threads);
    case Compression::zstd:
        return std::make_unique<ZstdCompressor>(out, level, threads);
    case Compression::none:
        break;
    }
    return std::make_unique<PlainOutput>(out);
}

} // namespace azl::rootfs::detail
