#include <azl/rootfs/entry.hpp>

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
