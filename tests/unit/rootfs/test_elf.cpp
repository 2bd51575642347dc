#include <azl/common/error.hpp>
#include <azl/rootfs/elf.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <string>

namespace
{

// The first 20 bytes of an ELF header: class, byte order, e_type, e_machine.
std::string
header(std::uint8_t elf_class, std::uint8_t data, std::uint16_t type, std::uint16_t machine)
{
    std::string h = "\x7f"
                    "ELF";
    h += static_cast<char>(elf_class);
    h += static_cast<char>(data);
    h.resize(16, '\0');
    const auto put = [&h, data](std::uint16_t v)
    {
        const auto lo = static_cast<char>(v & 0xffU);
        const auto hi = static_cast<char>(v >> 8U);
        h += data == 2 ? hi : lo;
        h += data == 2 ? lo : hi;
    };
    put(type);
    put(machine);
    return h;
}

} // namespace

TEST_CASE("ELF headers name their architecture as uname -m does", "[elf]")
{
    using azl::rootfs::elf_arch_name;
    using azl::rootfs::parse_elf_header;
    const auto arch = [](std::uint8_t c, std::uint8_t d, std::uint16_t machine)
    { return elf_arch_name(parse_elf_header(header(c, d, 3, machine)).value()); };
    CHECK(arch(2, 1, 62) == "x86_64");
    CHECK(arch(1, 1, 62) == "x32");
    CHECK(arch(2, 1, 183) == "aarch64");
    CHECK(arch(1, 1, 3) == "i386");
    CHECK(arch(1, 1, 40) == "arm");
    CHECK(arch(2, 1, 243) == "riscv64");
    CHECK(arch(2, 1, 21) == "ppc64le");
    CHECK(arch(2, 2, 21) == "ppc64");
    CHECK(arch(2, 2, 22) == "s390x");
    CHECK(arch(2, 1, 999) == "elf-machine-999");
}

TEST_CASE("only executables and shared objects count as programs", "[elf]")
{
    using azl::rootfs::parse_elf_header;
    CHECK(parse_elf_header(header(2, 1, 2, 62))->is_program());       // ET_EXEC
    CHECK(parse_elf_header(header(2, 1, 3, 62))->is_program());       // ET_DYN (PIE)
    CHECK_FALSE(parse_elf_header(header(2, 1, 1, 62))->is_program()); // ET_REL
    CHECK_FALSE(parse_elf_header(header(2, 1, 4, 62))->is_program()); // ET_CORE
}

TEST_CASE("what is not an ELF header is refused", "[elf]")
{
    using azl::rootfs::parse_elf_header;
    CHECK_FALSE(parse_elf_header("#!/bin/sh\necho hello, this is a script\n"));
    CHECK_FALSE(parse_elf_header(header(2, 1, 3, 62).substr(0, 19))); // too short
    CHECK_FALSE(parse_elf_header(header(3, 1, 3, 62)));               // no such class
    CHECK_FALSE(parse_elf_header(header(2, 0, 3, 62)));               // no byte order
}

TEST_CASE("this machine's own shell parses as a program", "[elf]")
{
    std::ifstream in("/bin/sh", std::ios::binary);
    std::string head(azl::rootfs::kElfProbeBytes, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    const auto elf = azl::rootfs::parse_elf_header(head);
    REQUIRE(elf);
    CHECK(elf->is_program());
    CHECK_FALSE(azl::rootfs::elf_arch_name(*elf).empty());
}

TEST_CASE("user-given architectures are spelled as elf_arch_name spells them", "[elf]")
{
    using azl::rootfs::canonical_arch;
    CHECK(canonical_arch("amd64") == "x86_64");
    CHECK(canonical_arch("x64") == "x86_64");
    CHECK(canonical_arch("arm64") == "aarch64");
    CHECK(canonical_arch("riscv64") == "riscv64");
    CHECK_THROWS_AS(canonical_arch("sparc"), azl::UserError);
}
