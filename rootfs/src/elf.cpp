#include <azl/common/error.hpp>
#include <azl/rootfs/elf.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace azl::rootfs
{

namespace
{

constexpr std::size_t kIdentBytes = 20; // e_ident (16), e_type (2), e_machine (2)

std::uint16_t read_u16(std::string_view bytes, std::size_t offset, bool big_endian)
{
    const auto lo = static_cast<unsigned char>(bytes[offset + (big_endian ? 1 : 0)]);
    const auto hi = static_cast<unsigned char>(bytes[offset + (big_endian ? 0 : 1)]);
    return static_cast<std::uint16_t>(lo | (hi << 8U));
}

} // namespace

std::optional<ElfHeader> parse_elf_header(std::string_view head)
{
    if (head.size() < kIdentBytes
        || head.substr(0, 4)
               != "\x7f"
                  "ELF")
    {
        return std::nullopt;
    }
    ElfHeader elf;
    elf.elf_class = static_cast<std::uint8_t>(head[4]);
    elf.data = static_cast<std::uint8_t>(head[5]);
    if ((elf.elf_class != 1 && elf.elf_class != 2) || (elf.data != 1 && elf.data != 2))
    {
        return std::nullopt;
    }
    const bool big_endian = elf.data == 2;
    elf.type = read_u16(head, 16, big_endian);
    elf.machine = read_u16(head, 18, big_endian);
    return elf;
}

std::string elf_arch_name(const ElfHeader& elf)
{
    const bool is64 = elf.elf_class == 2;
    switch (elf.machine)
    {
    case 3:
        return "i386";
    case 20:
        return "ppc";
    case 21:
        return elf.data == 1 ? "ppc64le" : "ppc64";
    case 22:
        return is64 ? "s390x" : "s390";
    case 40:
        return "arm";
    case 62:
        return is64 ? "x86_64" : "x32";
    case 183:
        return is64 ? "aarch64" : "aarch64_ilp32";
    case 243:
        return is64 ? "riscv64" : "riscv32";
    case 258:
        return "loongarch64";
    default:
        return fmt::format("elf-machine-{}", elf.machine);
    }
}

std::string canonical_arch(std::string_view name)
{
    if (name == "x86_64" || name == "amd64" || name == "x64")
    {
        return "x86_64";
    }
    if (name == "aarch64" || name == "arm64")
    {
        return "aarch64";
    }
    static constexpr std::array<std::string_view, 7> kOthers = {
        "i386", "arm", "riscv64", "ppc64le", "ppc64", "s390x", "loongarch64"};
    if (std::find(kOthers.begin(), kOthers.end(), name) != kOthers.end())
    {
        return std::string(name);
    }
    throw UserError(
        fmt::format("unknown architecture '{}'", name),
        "use x86_64 (amd64) or aarch64 (arm64)",
        ExitCode::usage);
}

} // namespace azl::rootfs
