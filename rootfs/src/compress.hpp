#pragma once
// The compression stage of the archive writer: the tar stream goes in, file bytes come out in
// order. Private header.

#include <azl/rootfs/writer.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

namespace azl::rootfs::detail
{

// Receives bytes in order.
class ByteSink
{
public:
    virtual ~ByteSink() = default;
    ByteSink() = default;
    ByteSink(const ByteSink&) = delete;
    ByteSink& operator=(const ByteSink&) = delete;
    ByteSink(ByteSink&&) = delete;
    ByteSink& operator=(ByteSink&&) = delete;

    // Takes all of `data`; throws on failure.
    virtual void write(std::span<const std::byte> data) = 0;
};

// Compresses what it is given into another ByteSink.
class Compressor : public ByteSink
{
public:
    // Compresses and passes on everything still held; no write() may follow.
    virtual void finish() = 0;

    // How many input bytes the output handed to the sink so far (the current write included)
    // holds; 0 when the codec cannot tell. Scales a partial output up to an estimate of the whole.
    [[nodiscard]] virtual std::uint64_t input_passed_on() const noexcept
    {
        return 0;
    }
};

// The level to use: the codec's default when unset; throws UserError when out of the codec's range
// (e.g. "--level 15 is out of range for gzip (1-12)") or when given for an uncompressed archive.
int resolve_level(Compression compression, std::optional<int> level);

// The number of compression threads: `requested`, or the number of CPUs for 0, kept in [1, 32].
unsigned resolve_threads(unsigned requested);

// A compressor for `compression` writing to `out`. Its output depends only on the input, the
// codec and `level`, never on `threads`.
std::unique_ptr<Compressor>
make_compressor(Compression compression, int level, unsigned threads, ByteSink& out);

} // namespace azl::rootfs::detail
