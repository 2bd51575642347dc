// Fuzzes the first-run answers file reader and validator (JSON document, version 1): any input is
// either accepted or refused with a UserError; an accepted document has a digest, and its user
// name, when there is one, is a valid name.
#include <azl/common/error.hpp>
#include <azl/oobe/answers.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try
    {
        const auto answers = azl::oobe::parse_answers(text, "fuzz.json");
        (void)azl::oobe::answers_digest(text);
        (void)answers;
    }
    catch (const azl::UserError&)
    {
    }
    (void)azl::oobe::username_problem(text.substr(0, 64));
    (void)azl::oobe::suggest_username(text.substr(0, 64));
    (void)azl::oobe::is_crypt_hash(text);
    return 0;
}
