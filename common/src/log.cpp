#include <azl/common/error.hpp>
#include <azl/common/log.hpp>

#include <spdlog/cfg/env.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <mutex>
#include <vector>

namespace azl
{

namespace
{

// The sinks every logger writes to, set up once by the program (STYLE.md: spdlog's registry is the
// one allowed global state); g_mutex guards g_sinks.
// NOLINTBEGIN(cppcoreguidelines-avoid-non-const-global-variables): see above
std::mutex g_mutex;
std::vector<spdlog::sink_ptr> g_sinks;

// NOLINTEND(cppcoreguidelines-avoid-non-const-global-variables)

spdlog::level::level_enum stderr_level(Verbosity v)
{
    switch (v)
    {
    case Verbosity::quiet:
        return spdlog::level::err;
    case Verbosity::normal:
        return spdlog::level::warn;
    case Verbosity::verbose:
        return spdlog::level::info;
    case Verbosity::debug:
        return spdlog::level::debug;
    }
    return spdlog::level::warn;
}

std::string utf8(const std::filesystem::path& path)
{
    const std::u8string u = path.u8string();
    return {u.begin(), u.end()};
}

// Appends to a file opened through std::filesystem::path: its wide name on Windows, where spdlog's
// own file sink would open a narrow (ANSI code page) name and mangle any other character.
class AppendFileSink final : public spdlog::sinks::base_sink<std::mutex>
{
public:
    explicit AppendFileSink(const std::filesystem::path& file)
        : m_out(file, std::ios::app | std::ios::binary)
    {
        if (!m_out)
        {
            throw UserError(
                fmt::format("cannot open the log file {}", utf8(file)),
                "give --log-file a file in a folder you can write to");
        }
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override
    {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        m_out.write(formatted.data(), static_cast<std::streamsize>(formatted.size()));
    }

    void flush_() override
    {
        m_out.flush();
    }

private:
    std::ofstream m_out;
};

} // namespace

void setup_logging(const LogOptions& options)
{
    const std::lock_guard lock(g_mutex);
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_pattern("%^%l%$: %v");
    console->set_level(stderr_level(options.verbosity));
    g_sinks = {console};
    if (!options.log_file.empty())
    {
        auto file = std::make_shared<AppendFileSink>(options.log_file);
        file->set_pattern("%Y-%m-%dT%H:%M:%S.%e %n %l: %v");
        file->set_level(spdlog::level::debug);
        g_sinks.push_back(file);
    }
    spdlog::drop_all();
    auto def = std::make_shared<spdlog::logger>("azurelinux", g_sinks.begin(), g_sinks.end());
    def->set_level(spdlog::level::debug);
    spdlog::set_default_logger(def);
    // SPDLOG_LEVEL=debug (or name=level pairs) changes the logger levels; sinks keep their own.
    spdlog::cfg::load_env_levels();
    if (std::getenv("SPDLOG_LEVEL") != nullptr)
    {
        console->set_level(spdlog::level::trace);
    }
}

std::shared_ptr<spdlog::logger> logger(const std::string& name)
{
    const std::lock_guard lock(g_mutex);
    if (auto existing = spdlog::get(name))
    {
        return existing;
    }
    std::shared_ptr<spdlog::logger> created;
    if (g_sinks.empty())
    {
        // A library used without setup_logging (tests): warnings on stderr.
        created = std::make_shared<spdlog::logger>(
            name, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
        created->set_level(spdlog::level::warn);
    }
    else
    {
        created = std::make_shared<spdlog::logger>(name, g_sinks.begin(), g_sinks.end());
        created->set_level(spdlog::default_logger()->level());
    }
    spdlog::register_logger(created);
    return created;
}

} // namespace azl
