#include "wsl_filter.hpp"

#include <azl/common/error.hpp>
#include <azl/common/wsl_facts.hpp>
#include <azl/packaging/wsl_config.hpp>
#include <azl/rootfs/elf.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace azl::packaging::detail
{

namespace
{

using rootfs::ContentReader;
using rootfs::Entry;
using rootfs::EntrySink;
using rootfs::EntryType;

constexpr std::string_view kMaskDir = "etc/systemd/system";

// The lists image check warns with (azl/common/wsl_facts.hpp).
constexpr const auto& kWsl1Xattrs = kWsl1UnsupportedXattrs;
constexpr const auto& kHostileUnits = kWslHostileUnits;
constexpr const auto& kUnitDirs = kSystemdUnitDirs;

bool is_hostile(std::string_view unit)
{
    return std::find(kHostileUnits.begin(), kHostileUnits.end(), unit) != kHostileUnits.end();
}

bool is_unit_dir(std::string_view dir)
{
    return std::find(kUnitDirs.begin(), kUnitDirs.end(), dir) != kUnitDirs.end();
}

std::string base_name(const std::string& path)
{
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Gives back bytes already read from a file's beginning, then the rest from the original reader.
class PrefixReader final : public ContentReader
{
public:
    PrefixReader(std::string prefix, ContentReader& rest)
        : m_prefix(std::move(prefix))
        , m_rest(rest)
    {
    }

    std::size_t read(std::span<std::byte> buf) override
    {
        if (m_pos < m_prefix.size())
        {
            const std::size_t n = std::min(buf.size(), m_prefix.size() - m_pos);
            std::memcpy(buf.data(), m_prefix.data() + m_pos, n);
            m_pos += n;
            return n;
        }
        return m_rest.read(buf);
    }

private:
    std::string m_prefix;
    std::size_t m_pos = 0;
    ContentReader& m_rest;
};

class MemoryReader final : public ContentReader
{
public:
    explicit MemoryReader(std::string_view data)
        : m_data(data)
    {
    }

    std::size_t read(std::span<std::byte> buf) override
    {
        const std::size_t n = std::min(buf.size(), m_data.size());
        std::memcpy(buf.data(), m_data.data(), n);
        m_data.remove_prefix(n);
        return n;
    }

private:
    std::string_view m_data;
};

} // namespace

std::span<const std::string_view> wsl_hostile_units()
{
    return kHostileUnits;
}

std::optional<std::string> program_arch(std::string_view head)
{
    const auto elf = rootfs::parse_elf_header(head);
    if (!elf || !elf->is_program())
    {
        return std::nullopt;
    }
    return rootfs::elf_arch_name(*elf);
}

WslFilter::WslFilter(WslFilterOptions options)
    : m_options(std::move(options))
{
}

void WslFilter::observe(const Entry& e)
{
    if (e.type == EntryType::directory)
    {
        m_dirs.insert(e.path);
        return;
    }
    m_others.insert(e.path);
    if (e.type == EntryType::symlink)
    {
        m_symlinks[e.path] = e.link_target;
    }
    else if (e.type == EntryType::hardlink)
    {
        m_hardlinks[e.path] = e.link_target;
    }
    const std::string unit = base_name(e.path);
    if (!is_hostile(unit))
    {
        return;
    }
    const std::string dir = rootfs::parent_path(e.path);
    if (is_unit_dir(dir))
    {
        const bool masked =
            dir == kMaskDir && e.type == EntryType::symlink && e.link_target == "/dev/null";
        (masked ? m_units_masked : m_units_present).insert(unit);
    }
    else if (
        (dir.ends_with(".wants") || dir.ends_with(".requires"))
        && is_unit_dir(rootfs::parent_path(dir)))
    {
        m_units_enabled.insert(unit);
    }
}

void WslFilter::add(const Entry& entry, ContentReader* content, EntrySink& next)
{
    const bool strip = m_options.strip_xattrs
                       && std::any_of(
                           entry.xattrs.begin(),
                           entry.xattrs.end(),
                           [](const rootfs::Xattr& x) {
                               return std::find(kWsl1Xattrs.begin(), kWsl1Xattrs.end(), x.name)
                                      != kWsl1Xattrs.end();
                           });
    const bool mask = m_options.mask_units && entry.type != EntryType::directory
                      && rootfs::parent_path(entry.path) == kMaskDir
                      && is_hostile(base_name(entry.path))
                      && !(entry.type == EntryType::symlink && entry.link_target == "/dev/null");
    // Most entries pass unchanged; a copy is made only for the few that change.
    const Entry* out = &entry;
    Entry changed;
    if (strip || mask)
    {
        changed = entry;
        const auto before = changed.xattrs.size();
        std::erase_if(
            changed.xattrs,
            [](const rootfs::Xattr& x) {
                return std::find(kWsl1Xattrs.begin(), kWsl1Xattrs.end(), x.name)
                       != kWsl1Xattrs.end();
            });
        m_report.stripped_xattrs += before - changed.xattrs.size();
        if (mask)
        {
            // The image's own unit file in /etc is replaced by the mask, as `systemctl mask` does.
            changed.type = EntryType::symlink;
            changed.link_target = "/dev/null";
            changed.mode = 0777;
            changed.size = 0;
            changed.xattrs.clear();
            m_report.masked.push_back(base_name(changed.path));
            content = nullptr;
        }
        out = &changed;
    }
    observe(*out);
    if (out->type != EntryType::file || content == nullptr || (out->mode & 0111U) == 0
        || out->size < 20)
    {
        next.add(*out, out->type == EntryType::file ? content : nullptr);
        return;
    }
    // Executables: read the ELF header on the way through, to tell whether /sbin/init and the
    // shell are ELF programs and for which machine.
    std::string head;
    std::array<std::byte, rootfs::kElfProbeBytes> buf{};
    while (head.size() < rootfs::kElfProbeBytes)
    {
        const std::size_t n =
            content->read(std::span(buf).first(rootfs::kElfProbeBytes - head.size()));
        if (n == 0)
        {
            break;
        }
        head.append(reinterpret_cast<const char*>(buf.data()), n);
    }
    if (auto arch = program_arch(head))
    {
        m_elf[out->path] = std::move(*arch);
    }
    PrefixReader replay(std::move(head), *content);
    next.add(*out, &replay);
}

std::optional<std::string> WslFilter::resolve(const std::string& path) const
{
    const rootfs::ImagePath reached = rootfs::resolve_image_path(
        path,
        [this](const std::string& p) -> const std::string*
        {
            const auto link = m_symlinks.find(p);
            return link == m_symlinks.end() ? nullptr : &link->second;
        });
    if (reached.loop)
    {
        return std::nullopt;
    }
    std::string result = reached.path;
    if (const auto hard = m_hardlinks.find(result); hard != m_hardlinks.end())
    {
        result = hard->second;
    }
    if (!m_others.contains(result) && !m_dirs.contains(result))
    {
        return std::nullopt;
    }
    return result;
}

void WslFilter::ensure_directory(const std::string& path, EntrySink& next)
{
    std::vector<std::string> missing; // innermost first, added outermost first
    for (std::string dir = path; dir != "." && !m_dirs.contains(dir);
         dir = rootfs::parent_path(dir))
    {
        if (m_others.contains(dir))
        {
            throw UserError(
                fmt::format("/{} in the image is not a directory: cannot add files below it", dir),
                "fix the source tree, or build without the option that adds them");
        }
        missing.push_back(dir);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it)
    {
        Entry dir;
        dir.path = *it;
        dir.type = EntryType::directory;
        dir.mode = 0755;
        dir.mtime = m_options.mtime;
        next.add(dir, nullptr);
        m_dirs.insert(*it);
    }
}

void WslFilter::add_masks(EntrySink& next)
{
    std::set<std::string> wanted = m_units_present;
    wanted.insert(m_units_enabled.begin(), m_units_enabled.end());
    for (const std::string& unit : wanted)
    {
        if (m_units_masked.contains(unit))
        {
            continue;
        }
        if (!m_options.mask_units)
        {
            if (m_units_enabled.contains(unit))
            {
                m_report.enabled.push_back(unit);
            }
            continue;
        }
        const std::string path = std::string(kMaskDir) + "/" + unit;
        if (m_others.contains(path))
        {
            continue; // replaced by a mask as it went by
        }
        ensure_directory(std::string(kMaskDir), next);
        Entry link;
        link.path = path;
        link.type = EntryType::symlink;
        link.link_target = "/dev/null";
        link.mode = 0777;
        link.mtime = m_options.mtime;
        next.add(link, nullptr);
        m_others.insert(path);
        m_report.masked.push_back(unit);
    }
    std::sort(m_report.masked.begin(), m_report.masked.end());
}

void WslFilter::add_wsl_conf(EntrySink& next)
{
    if (!m_options.add_wsl_conf || m_others.contains("etc/wsl.conf"))
    {
        return;
    }
    const auto init = resolve("sbin/init");
    m_report.systemd = init && m_elf.contains(*init);
    const std::string text = render_wsl_conf(m_report.systemd ? SystemdBoot::on : SystemdBoot::off);
    ensure_directory("etc", next);
    Entry conf;
    conf.path = "etc/wsl.conf";
    conf.type = EntryType::file;
    conf.mode = 0644;
    conf.mtime = m_options.mtime;
    conf.size = text.size();
    MemoryReader reader(text);
    next.add(conf, &reader);
    m_others.insert(conf.path);
    m_report.wsl_conf_added = true;
}

void WslFilter::add_symlinks(EntrySink& next)
{
    for (const auto& [path, target] : m_options.symlinks)
    {
        if (m_others.contains(path) || m_dirs.contains(path))
        {
            continue; // the image decided already
        }
        ensure_directory(rootfs::parent_path(path), next);
        Entry link;
        link.path = path;
        link.type = EntryType::symlink;
        link.link_target = target;
        link.mode = 0777;
        link.mtime = m_options.mtime;
        next.add(link, nullptr);
        m_others.insert(path);
    }
}

void WslFilter::add_files(EntrySink& next)
{
    for (const auto& [path, text] : m_options.files)
    {
        if (m_others.contains(path) || m_dirs.contains(path))
        {
            continue; // the image's own file wins
        }
        ensure_directory(rootfs::parent_path(path), next);
        Entry file;
        file.path = path;
        file.type = EntryType::file;
        file.mode = 0644;
        file.mtime = m_options.mtime;
        file.size = text.size();
        MemoryReader reader(text);
        next.add(file, &reader);
        m_others.insert(path);
        m_report.files_added.push_back(path);
    }
}

void WslFilter::check_required() const
{
    for (const auto& req : m_options.required)
    {
        const auto found = resolve(req.path);
        if (!found || m_dirs.contains(*found))
        {
            throw UserError(req.message, req.hint);
        }
    }
}

void WslFilter::finish(EntrySink& next)
{
    check_required();
    if (const auto sh = resolve("bin/sh"))
    {
        if (const auto it = m_elf.find(*sh); it != m_elf.end())
        {
            m_report.image_arch = it->second;
            if (m_options.arch && *m_options.arch != it->second)
            {
                throw UserError(
                    fmt::format(
                        "the guest programs (azurelinux-oobe, azurelinux-bridge) are built for "
                        "{}, but the image is for {} (its /bin/sh)",
                        *m_options.arch,
                        *m_report.image_arch),
                    fmt::format(
                        "pass --oobe and --bridge built for {}, or --no-guest-tools if the "
                        "image's packages provide them",
                        *m_report.image_arch));
            }
        }
    }
    add_masks(next);
    add_wsl_conf(next);
    add_symlinks(next);
    add_files(next);
}

} // namespace azl::packaging::detail
