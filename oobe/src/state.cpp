#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/oobe/state.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

namespace azl::oobe
{

using nlohmann::json;

State State::load(const std::filesystem::path& path)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
    {
        return {};
    }
    const auto text = read_file(path, 1U << 20U);
    try
    {
        const json doc = json::parse(text);
        State s;
        s.answers_digest = doc.value("answers_digest", "");
        s.completed = doc.value("completed", std::vector<std::string>{});
        s.creating_user = doc.value("creating_user", "");
        s.finished = doc.value("finished", false);
        return s;
    }
    catch (const json::exception& e)
    {
        throw UserError(
            fmt::format("{}: corrupt state file: {}", path.string(), e.what()),
            "remove it (or run `azurelinux-oobe --reset`) to start first-run setup afresh");
    }
}

void State::save(const std::filesystem::path& path) const
{
    const auto dir = path.parent_path();
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    {
        throw_errno(fmt::format("creating {}", dir.string()));
    }
    const json doc{
        {"version", 1},
        {"answers_digest", answers_digest},
        {"completed", completed},
        {"creating_user", creating_user},
        {"finished", finished},
    };
    write_file_atomic(path, doc.dump(2) + "\n", 0600);
}

bool State::done(std::string_view id) const
{
    return std::find(completed.begin(), completed.end(), id) != completed.end();
}

void State::mark_done(std::string_view id)
{
    if (!done(id))
    {
        completed.emplace_back(id);
    }
}

} // namespace azl::oobe
