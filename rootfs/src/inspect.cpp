// `image inspect`: open any source, flatten it into a sink that only counts and keeps os-release.

#include "os_release.hpp"

#include <azl/rootfs/flatten.hpp>
#include <azl/rootfs/inspect.hpp>
#include <azl/rootfs/source.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace azl::rootfs
{

namespace
{

// os-release is a few hundred bytes; more than this is not an os-release worth showing.
constexpr std::size_t kOsReleaseLimit = 64U << 10U;

constexpr std::array<std::string_view, 2> kWslFiles = {"etc/wsl.conf", "etc/wsl-distribution.conf"};
constexpr std::array<std::string_view, 3> kWslDirs = {
    "usr/lib/wsl/", "usr/libexec/wsl/", "usr/share/wsl/"};

bool is_wsl_file(std::string_view path)
{
    if (std::find(kWslFiles.begin(), kWslFiles.end(), path) != kWslFiles.end())
    {
        return true;
    }
    return std::any_of(
        kWslDirs.begin(),
        kWslDirs.end(),
        [path](std::string_view dir) { return path.substr(0, dir.size()) == dir; });
}

std::string read_capped(ContentReader& content, std::size_t limit)
{
    std::string out;
    std::array<std::byte, 8192> buf{};
    while (out.size() < limit)
    {
        const std::size_t n = content.read(buf);
        if (n == 0)
        {
            break;
        }
        out.append(reinterpret_cast<const char*>(buf.data()), std::min(n, limit - out.size()));
    }
    return out;
}

class InspectSink final : public EntrySink
{
public:
    explicit InspectSink(InspectReport& report)
        : m_report(report)
    {
    }

    void add(const Entry& entry, ContentReader* content) override
    {
        ++m_report.entries;
        switch (entry.type)
        {
        case EntryType::file:
            ++m_report.files;
            m_report.content_bytes += entry.size;
            break;
        case EntryType::directory:
            ++m_report.directories;
            break;
        case EntryType::symlink:
            ++m_report.symlinks;
            break;
        case EntryType::hardlink:
            ++m_report.hardlinks;
            break;
        case EntryType::char_device:
        case EntryType::block_device:
        case EntryType::fifo:
            ++m_report.other;
            break;
        }
        if (entry.type != EntryType::directory && is_wsl_file(entry.path))
        {
            m_report.wsl_files.push_back(entry.path);
        }
        if (entry.path == "etc/os-release" || entry.path == "usr/lib/os-release")
        {
            if (entry.type == EntryType::file && content != nullptr)
            {
                m_os_release[entry.path] = read_capped(*content, kOsReleaseLimit);
            }
            else if (entry.type == EntryType::hardlink)
            {
                m_hardlinks[entry.path] = entry.link_target;
            }
        }
    }

    // The os-release text as os-release(5) readers find it: /etc first, then /usr/lib.
    [[nodiscard]] const std::string* os_release() const
    {
        for (const char* path : {"etc/os-release", "usr/lib/os-release"})
        {
            if (const auto it = m_os_release.find(path); it != m_os_release.end())
            {
                return &it->second;
            }
            // A hard link to the other one (a symlink is followed by taking the other one anyway).
            if (const auto link = m_hardlinks.find(path); link != m_hardlinks.end())
            {
                if (const auto it = m_os_release.find(link->second); it != m_os_release.end())
                {
                    return &it->second;
                }
            }
        }
        return nullptr;
    }

private:
    InspectReport& m_report;
    std::map<std::string, std::string> m_os_release;
    std::map<std::string, std::string> m_hardlinks;
};

} // namespace

InspectReport inspect_image(const std::filesystem::path& input, const std::string& platform)
{
    SourceOptions options;
    options.platform = platform;
    const Source source = open_source(input, options);

    InspectReport report;
    report.input = input;
    report.format = std::string(format_name(source.format));
    report.compression = source.format == SourceFormat::directory ? "none" : source.compression;
    std::error_code ec;
    if (std::filesystem::is_regular_file(input, ec))
    {
        report.file_bytes = std::filesystem::file_size(input, ec);
    }
    report.layers = source.layers.size();

    std::vector<const Layer*> layers;
    layers.reserve(source.layers.size());
    for (const auto& layer : source.layers)
    {
        layers.push_back(layer.get());
    }
    InspectSink sink(report);
    flatten(layers, sink);
    if (const std::string* text = sink.os_release())
    {
        report.os_release = detail::parse_os_release(*text);
    }
    std::sort(report.wsl_files.begin(), report.wsl_files.end());
    return report;
}

nlohmann::json to_json(const InspectReport& report)
{
    return {
        {"input", report.input.string()},
        {"format", report.format},
        {"compression", report.compression},
        {"file_bytes", report.file_bytes},
        {"layers", report.layers},
        {"entries", report.entries},
        {"files", report.files},
        {"directories", report.directories},
        {"symlinks", report.symlinks},
        {"hardlinks", report.hardlinks},
        {"other", report.other},
        {"content_bytes", report.content_bytes},
        {"os_release", report.os_release},
        {"wsl_files", report.wsl_files},
    };
}

} // namespace azl::rootfs
