// Fuzzes the wsl.conf / wsl-distribution.conf reader and editor: any input either parses or is
// refused with a UserError; a parsed document survives an edit and prints back to text that parses
// to the same items.
#include <azl/common/error.hpp>
#include <azl/common/ini.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try
    {
        auto ini = azl::IniFile::parse(text, "fuzz.conf");
        for (const auto& item : ini.items())
        {
            (void)azl::parse_ini_bool(item.value);
        }
        const auto again = azl::IniFile::parse(ini.str(), "fuzz.conf");
        if (again.items().size() != ini.items().size())
        {
            std::abort(); // printing an unedited document must not change what it says
        }
        ini.set("boot", "command", R"(echo "quoted" \ value # not a comment)");
        ini.erase("user", "default");
        const auto edited = azl::IniFile::parse(ini.str(), "fuzz.conf");
        if (edited.get("boot", "command") != R"(echo "quoted" \ value # not a comment)")
        {
            std::abort(); // a value we set must read back exactly
        }
    }
    catch (const azl::UserError&)
    {
    }
    return 0;
}
