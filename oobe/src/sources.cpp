#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/common/process.hpp>
#include <azl/oobe/answers.hpp>
#include <azl/oobe/sources.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>

namespace azl::oobe
{

namespace fs = std::filesystem;

namespace
{

constexpr std::chrono::seconds kInteropTimeout{10};

std::string first_line(std::string_view text)
{
    const auto end = text.find_first_of("\r\n");
    return std::string(text.substr(0, end));
}

AnswersSource read_source(const fs::path& path)
{
    struct stat st = {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0)
    {
        logger("oobe")->warn(
            "{} is readable by every user: answers can hold password hashes and proxy "
            "credentials; `chmod 600` it",
            path.string());
    }
    try
    {
        return {path, read_file(path, 16U << 20U)};
    }
    catch (const UserError& e)
    {
        // read_file's message already names the file.
        throw UserError(e.what(), "check the path given to --answers", ExitCode::usage);
    }
}

bool is_file(const fs::path& p)
{
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

} // namespace

std::optional<std::string> windows_environment(std::string_view name)
{
    if (!find_program("cmd.exe"))
    {
        return std::nullopt;
    }
    ProcessOptions opts;
    opts.timeout = kInteropTimeout;
    std::error_code ec;
    if (fs::is_directory("/mnt/c", ec))
    {
        opts.cwd = "/mnt/c"; // cmd.exe warns about and then ignores a Linux working directory
    }
    try
    {
        const auto result = run_process({"cmd.exe", "/c", fmt::format("echo %{}%", name)}, opts);
        auto value = first_line(result.out);
        if (!result.ok() || value.empty() || value == fmt::format("%{}%", name))
        {
            return std::nullopt;
        }
        return value;
    }
    catch (const UserError&)
    {
        return std::nullopt; // interop disabled: the binfmt handler refuses to start it
    }
}

std::optional<fs::path> guest_path_of(std::string_view windows_path)
{
    if (!find_program("wslpath"))
    {
        return std::nullopt;
    }
    ProcessOptions opts;
    opts.timeout = kInteropTimeout;
    const auto result = run_process({"wslpath", "-u", std::string(windows_path)}, opts);
    auto path = first_line(result.out);
    if (!result.ok() || path.empty())
    {
        return std::nullopt;
    }
    return fs::path(path);
}

std::optional<AnswersSource>
find_answers(const std::optional<fs::path>& explicit_file, const fs::path& image_file)
{
    auto log = logger("oobe");
    if (explicit_file)
    {
        return read_source(*explicit_file);
    }
    const char* distro = std::getenv("WSL_DISTRO_NAME");
    if (const auto profile = windows_environment("USERPROFILE"))
    {
        if (const auto dir = guest_path_of(*profile))
        {
            std::vector<fs::path> candidates;
            if (distro != nullptr && *distro != '\0')
            {
                candidates.push_back(*dir / ".azurelinux" / fmt::format("{}.json", distro));
            }
            candidates.push_back(*dir / ".azurelinux" / "default.json");
            for (const auto& c : candidates)
            {
                log->debug("looking for host answers at {}", c.string());
                if (is_file(c))
                {
                    return read_source(c);
                }
            }
        }
    }
    if (is_file(image_file))
    {
        return read_source(image_file);
    }
    return std::nullopt;
}

} // namespace azl::oobe
