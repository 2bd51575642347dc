#include <azl/common/fs.hpp>

#include <fmt/format.h>

#include <array>

namespace azl
{

std::string human_bytes(std::uintmax_t bytes)
{
    static constexpr std::array<const char*, 6> kUnits = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024)
    {
        return fmt::format("{} B", bytes);
    }
    auto value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < kUnits.size())
    {
        value /= 1024.0;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, kUnits.at(unit));
}

} // namespace azl
