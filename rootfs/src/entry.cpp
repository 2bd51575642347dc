#include <azl/rootfs/entry.hpp>

#include <algorithm>
#include <vector>

namespace azl::rootfs
{

std::optional<std::string> normalize_path(std::string_view name)
{
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i <= name.size())
    {
        const std::size_t slash = std::min(name.find('/', i), name.size());
        const std::string_view part = name.substr(i, slash - i);
        i = slash + 1;
        if (part.empty() || part == ".")
        {
            continue;
        }
        if (part == "..")
        {
            if (parts.empty())
            {
                return std::nullopt;
            }
            parts.pop_back();
            continue;
        }
        parts.push_back(part);
    }
    if (parts.empty())
    {
        return std::string(".");
    }
    std::string out;
    out.reserve(name.size());
    for (const auto& part : parts)
    {
        if (!out.empty())
        {
            out += '/';
        }
        out += part;
    }
    return out;
}

bool has_dotdot(std::string_view name)
{
    std::size_t i = 0;
    while (i <= name.size())
    {
        const std::size_t slash = std::min(name.find('/', i), name.size());
        if (name.substr(i, slash - i) == "..")
        {
            return true;
        }
        i = slash + 1;
    }
    return false;
}

std::string parent_path(std::string_view path)
{
    const auto slash = path.rfind('/');
    if (slash == std::string_view::npos)
    {
        return ".";
    }
    return std::string(path.substr(0, slash));
}

namespace
{

void append_parts(std::string_view path, std::vector<std::string>& reversed_out)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size())
    {
        const std::size_t slash = std::min(path.find('/', start), path.size());
        if (slash > start)
        {
            parts.emplace_back(path.substr(start, slash - start));
        }
        start = slash + 1;
    }
    reversed_out.insert(reversed_out.end(), parts.rbegin(), parts.rend());
}

std::string join_parts(const std::vector<std::string>& parts)
{
    std::string out;
    for (const auto& p : parts)
    {
        out += out.empty() ? p : "/" + p;
    }
    return out.empty() ? "." : out;
}

} // namespace

ImagePath resolve_image_path(
    std::string_view path,
    const std::function<const std::string*(const std::string&)>& symlink_target)
{
    std::vector<std::string> todo; // the components still to walk, the next one last
    append_parts(path, todo);
    std::vector<std::string> done;
    int hops = 0;
    while (!todo.empty())
    {
        std::string part = std::move(todo.back());
        todo.pop_back();
        if (part == ".")
        {
            continue;
        }
        if (part == "..")
        {
            if (!done.empty())
            {
                done.pop_back();
            }
            continue;
        }
        done.push_back(std::move(part));
        const std::string* target = symlink_target(join_parts(done));
        if (target == nullptr)
        {
            continue;
        }
        if (++hops > kMaxSymlinkHops)
        {
            return {join_parts(done), true};
        }
        done.pop_back();
        if (target->starts_with('/'))
        {
            done.clear();
        }
        append_parts(*target, todo);
    }
    return {join_parts(done), false};
}

std::string_view type_name(EntryType type)
{
    switch (type)
    {
    case EntryType::file:
        return "file";
    case EntryType::directory:
        return "directory";
    case EntryType::symlink:
        return "symlink";
    case EntryType::hardlink:
        return "hardlink";
    case EntryType::char_device:
        return "char-device";
    case EntryType::block_device:
        return "block-device";
    case EntryType::fifo:
        return "fifo";
    }
    return "unknown";
}

} // namespace azl::rootfs
