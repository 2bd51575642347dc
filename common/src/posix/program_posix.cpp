#include <azl/common/program.hpp>

#include <clocale>
#include <system_error>

namespace azl
{

std::vector<std::string> utf8_arguments(int argc, char** argv)
{
    return {argv, argv + argc};
}

void setup_utf8_console()
{
    // Only the character type: names stay UTF-8 bytes (libarchive then writes them to pax headers
    // as they are), while number formatting stays "C".
    if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr)
    {
        // If this fails too, "C" stays: bytes pass through as they are.
        (void)std::setlocale(LC_CTYPE, "");
    }
}

std::filesystem::path executable_path()
{
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : self;
}

} // namespace azl
