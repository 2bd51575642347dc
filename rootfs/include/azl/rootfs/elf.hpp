#pragma once
// What an ELF header says about a program: whether it is one, and for which architecture. One
// reader for `image check` (the shell, /sbin/init, the first-run program) and for `image build`
// (the guest programs it adds and the image's /bin/sh), so both name an architecture alike.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace azl::rootfs
{

// The identifying fields of an ELF header (elf(5)).
struct ElfHeader
{
    std::uint8_t elf_class = 0; // 1: 32-bit, 2: 64-bit
    std::uint8_t data = 0;      // 1: little endian, 2: big endian
    std::uint16_t type = 0;     // e_type: ET_EXEC 2, ET_DYN 3, …
    std::uint16_t machine = 0;  // e_machine: EM_*

    // Whether the file can be run: an executable or a position-independent one (ET_EXEC, ET_DYN).
    [[nodiscard]] bool is_program() const noexcept
    {
        return type == 2 || type == 3;
    }
};

// How many of a file's first bytes parse_elf_header needs at most.
inline constexpr std::size_t kElfProbeBytes = 64;

// Parses the first bytes of a file; nullopt when they are not an ELF header.
std::optional<ElfHeader> parse_elf_header(std::string_view head);

// The architecture a header is built for, as uname -m names it: "x86_64", "aarch64", "i386",
// "riscv64", …; "elf-machine-N" for a machine without a name here.
std::string elf_arch_name(const ElfHeader& elf);

// The name elf_arch_name gives for a user-given architecture ("amd64" -> "x86_64", "arm64" ->
// "aarch64"). Throws UserError (usage) for names it does not know.
std::string canonical_arch(std::string_view name);

} // namespace azl::rootfs
