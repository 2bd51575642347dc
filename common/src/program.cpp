#include <azl/common/program.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <exception>

namespace azl
{

int run_program(std::string_view name, const std::function<int()>& work, ExitCodes codes)
{
    try
    {
        return work();
    }
    catch (const UserError& e)
    {
        fmt::print(stderr, "{}: {}\n", name, e.what());
        if (!e.hint().empty())
        {
            fmt::print(stderr, "  hint: {}\n", e.hint());
        }
        return static_cast<int>(e.exit_code());
    }
    catch (const SystemError& e)
    {
        fmt::print(stderr, "{}: {}\n", name, e.what());
        return codes.system_error;
    }
    catch (const std::exception& e)
    {
        fmt::print(stderr, "{}: internal error: {}\n", name, e.what());
        return codes.unexpected;
    }
}

Verbosity verbosity_from_flags(int verbose, bool quiet) noexcept
{
    if (quiet)
    {
        return Verbosity::quiet;
    }
    if (verbose <= 0)
    {
        return Verbosity::normal;
    }
    return verbose == 1 ? Verbosity::verbose : Verbosity::debug;
}

} // namespace azl
