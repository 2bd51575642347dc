// Layer flattening with OCI/Docker semantics in two passes over each layer:
//  1. headers only: an index (sorted path -> the layer and entry that define it) with whiteouts,
//     opaque directories and replacements applied, and a plan for orphaned hard links;
//  2. output: directories from the index, then each layer's surviving entries in stream order with
//     their content streamed from the layer to the sink.
// Memory grows with the number of entries (the index), never with file sizes.

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/rootfs/flatten.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <tuple>

namespace azl::rootfs
{

namespace
{

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
// Ordinal of directories the flattener synthesizes (missing parents): they are in no stream.
constexpr std::uint64_t kSynthetic = std::numeric_limits<std::uint64_t>::max();

// What a hard link resolves to, and how it is written out.
struct LinkInfo
{
    // Ordinal of the linked object's entry (never a hardlink) in its layer.
    std::uint64_t origin = 0;
    std::string origin_path; // that entry's path
    std::string emit_target; // the link target written to the sink (set by plan_links)
    bool recipient = false;  // written as a copy of the origin, at the origin's stream position
};

// The entry that defines one path of the flattened tree.
struct Node
{
    std::uint32_t layer = 0;
    std::uint64_t ordinal = 0; // position in its layer's stream
    EntryType type = EntryType::file;
    std::unique_ptr<Entry> dir{};     // directories: their final metadata
    std::unique_ptr<LinkInfo> link{}; // hardlinks
};

using NodeMap = std::map<std::string, Node, std::less<>>;

std::string_view base_name(std::string_view path)
{
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Whether a directory component of `path` (not its last) is a whiteout name: no tree has those.
bool below_whiteout_name(std::string_view path)
{
    for (std::size_t start = 0, slash = path.find('/'); slash != std::string_view::npos;
         start = slash + 1, slash = path.find('/', start))
    {
        if (path.substr(start, slash - start).starts_with(kWhiteoutPrefix))
        {
            return true;
        }
    }
    return false;
}

std::string join(const std::string& parent, std::string_view name)
{
    return parent == "." ? std::string(name) : parent + "/" + std::string(name);
}

std::unique_ptr<Entry> implicit_dir()
{
    auto e = std::make_unique<Entry>();
    e->type = EntryType::directory;
    e->mode = 0755;
    e->implicit = true;
    return e;
}

class Flattener
{
public:
    Flattener(std::span<const Layer* const> layers, EntrySink& sink)
        : m_layers(layers)
        , m_sink(sink)
        , m_counts(layers.size(), 0)
    {
    }

    FlattenStats run()
    {
        for (std::uint32_t i = 0; i < m_layers.size(); ++i)
        {
            index_layer(i);
        }
        plan_links();
        emit_directories();
        for (std::uint32_t i = 0; i < m_layers.size(); ++i)
        {
            emit_layer(i);
        }
        return std::move(m_stats);
    }

private:
    // ---- pass 1 -------------------------------------------------------------------------------

    void index_layer(std::uint32_t i)
    {
        const Layer& layer = *m_layers[i];
        const bool report = layer.reports_unmatched_whiteouts();
        auto reader = layer.open();
        Entry e;
        std::uint64_t ordinal = 0;
        while (reader->next(e))
        {
            index_entry(i, ordinal++, e, report);
        }
        m_counts[i] = ordinal;
    }

    void index_entry(std::uint32_t i, std::uint64_t ordinal, Entry& e, bool report)
    {
        const std::string_view base = base_name(e.path);
        if (base.starts_with(kWhiteoutPrefix))
        {
            index_whiteout(i, e, base, report);
            return;
        }
        if (below_whiteout_name(e.path))
        {
            throw UserError(
                fmt::format("{}: '{}' lies below a whiteout name", m_layers[i]->describe(), e.path),
                "the layer is malformed or hostile; do not use it");
        }
        if (e.path == ".")
        {
            if (!e.implicit || !m_root)
            {
                m_root = std::move(e);
            }
            return;
        }
        if (e.type == EntryType::directory && e.implicit)
        {
            if (!m_nodes.contains(e.path))
            {
                ensure_parent(i, e.path);
                std::string path = e.path;
                m_nodes.emplace(
                    std::move(path),
                    Node{
                        .layer = i,
                        .ordinal = ordinal,
                        .type = EntryType::directory,
                        .dir = std::make_unique<Entry>(std::move(e))});
            }
            return;
        }
        ensure_parent(i, e.path);
        if (e.type == EntryType::directory)
        {
            // Over a directory: metadata replaced, children kept (merge). Over
            // anything else: replaced.
            Node& node = m_nodes[e.path];
            node = Node{
                .layer = i,
                .ordinal = ordinal,
                .type = EntryType::directory,
                .dir = std::make_unique<Entry>(std::move(e))};
            return;
        }
        Node node{.layer = i, .ordinal = ordinal, .type = e.type};
        if (e.type == EntryType::hardlink)
        {
            node.link = resolve_link(i, e);
        }
        erase_range(subtree(e.path));
        m_nodes.insert_or_assign(e.path, std::move(node));
    }

    void index_whiteout(std::uint32_t i, const Entry& e, std::string_view base, bool report)
    {
        const std::string parent = parent_path(e.path);
        if (base == kOpaqueMarker)
        {
            if (parent != ".")
            {
                ensure_parent(i, e.path);
            }
            erase_lower(subtree(parent), i);
            return;
        }
        const std::string_view name = base.substr(kWhiteoutPrefix.size());
        if (name.starts_with(kWhiteoutPrefix))
        {
            logger("rootfs")->debug(
                "{}: ignoring whiteout metadata '{}'", m_layers[i]->describe(), e.path);
            return;
        }
        if (name.empty() || name == "." || name == "..")
        {
            throw UserError(
                fmt::format("{}: invalid whiteout '{}'", m_layers[i]->describe(), e.path),
                "the layer is malformed or hostile; do not use it");
        }
        const std::string target = join(parent, name);
        if (!remove_lower(target, i) && report)
        {
            m_stats.unmatched_whiteouts.push_back(target);
        }
    }

    // Removes `target` and what lies below it as far as they come from layers below `i`.
    bool remove_lower(const std::string& target, std::uint32_t i)
    {
        bool matched = erase_lower(subtree(target), i);
        const auto it = m_nodes.find(target);
        if (it == m_nodes.end() || it->second.layer >= i)
        {
            return matched;
        }
        const auto [first, last] = subtree(target);
        if (first != last)
        {
            // This layer put something below the removed directory: it stays, as a new directory.
            it->second = Node{
                .layer = i,
                .ordinal = kSynthetic,
                .type = EntryType::directory,
                .dir = implicit_dir()};
        }
        else
        {
            m_nodes.erase(it);
        }
        return true;
    }

    std::pair<NodeMap::iterator, NodeMap::iterator> subtree(const std::string& path)
    {
        if (path == ".")
        {
            return {m_nodes.begin(), m_nodes.end()};
        }
        // Every path below P starts with "P/"; '0' is the character after '/'.
        return {m_nodes.lower_bound(path + "/"), m_nodes.lower_bound(path + "0")};
    }

    void erase_range(std::pair<NodeMap::iterator, NodeMap::iterator> range)
    {
        m_nodes.erase(range.first, range.second);
    }

    // Erases the nodes of `range` that come from layers below `i`; a lower directory that still has
    // this layer's entries below it becomes a synthesized directory instead. Returns whether
    // anything was erased.
    bool erase_lower(std::pair<NodeMap::iterator, NodeMap::iterator> range, std::uint32_t i)
    {
        std::vector<std::string_view> kept;
        for (auto it = range.first; it != range.second; ++it)
        {
            if (it->second.layer >= i)
            {
                kept.push_back(it->first);
            }
        }
        const auto has_kept_below = [&](const std::string& dir)
        {
            const std::string prefix = dir + "/";
            const auto pos = std::lower_bound(kept.begin(), kept.end(), std::string_view(prefix));
            return pos != kept.end() && pos->starts_with(prefix);
        };
        bool erased = false;
        for (auto it = range.first; it != range.second;)
        {
            if (it->second.layer >= i)
            {
                ++it;
                continue;
            }
            erased = true;
            if (it->second.type == EntryType::directory && has_kept_below(it->first))
            {
                it->second = Node{
                    .layer = i,
                    .ordinal = kSynthetic,
                    .type = EntryType::directory,
                    .dir = implicit_dir()};
                ++it;
            }
            else
            {
                it = m_nodes.erase(it);
            }
        }
        return erased;
    }

    // Makes sure the parent of `path` is a directory, synthesizing missing ones (like tar would).
    // A loop, not recursion: an archive's path of a million components must not exhaust the stack.
    void ensure_parent(std::uint32_t i, const std::string& path)
    {
        std::vector<std::string> missing; // innermost first
        std::string child = path;
        for (std::string parent = parent_path(child); parent != "."; parent = parent_path(child))
        {
            const auto it = m_nodes.find(parent);
            if (it != m_nodes.end())
            {
                if (it->second.type != EntryType::directory)
                {
                    throw UserError(
                        fmt::format(
                            "{}: '{}' is inside '{}', which is a {}, not a directory",
                            m_layers[i]->describe(),
                            child,
                            parent,
                            type_name(it->second.type)),
                        it->second.type == EntryType::symlink ? "use the path the symlink points to"
                                                              : "");
                }
                break;
            }
            missing.push_back(parent);
            child = std::move(parent);
        }
        for (auto dir = missing.rbegin(); dir != missing.rend(); ++dir)
        {
            m_nodes.emplace(
                std::move(*dir),
                Node{
                    .layer = i,
                    .ordinal = kSynthetic,
                    .type = EntryType::directory,
                    .dir = implicit_dir()});
        }
    }

    // A hard link names an earlier entry of the same layer; chains resolve to the first object.
    std::unique_ptr<LinkInfo> resolve_link(std::uint32_t i, const Entry& e)
    {
        const auto it = m_nodes.find(e.link_target);
        if (it == m_nodes.end() || it->second.layer != i || it->second.ordinal == kSynthetic)
        {
            throw UserError(
                fmt::format(
                    "{}: hard link '{}' points to '{}', which is not an earlier member of the "
                    "layer",
                    m_layers[i]->describe(),
                    e.path,
                    e.link_target),
                "the layer is malformed; rebuild it");
        }
        if (it->second.type == EntryType::directory)
        {
            throw UserError(
                fmt::format(
                    "{}: hard link '{}' points to the directory '{}'",
                    m_layers[i]->describe(),
                    e.path,
                    e.link_target),
                "the layer is malformed or hostile; do not use it");
        }
        auto link = std::make_unique<LinkInfo>();
        if (it->second.link)
        {
            link->origin = it->second.link->origin;
            link->origin_path = it->second.link->origin_path;
        }
        else
        {
            link->origin = it->second.ordinal;
            link->origin_path = it->first;
        }
        return link;
    }

    // Links whose origin survives stay links to it. For the others, the first surviving link (in
    // stream order) becomes a copy of the origin, written when the output pass reaches the origin's
    // entry (its content is there), and the later ones link to that copy.
    void plan_links()
    {
        std::vector<std::tuple<std::uint32_t, std::uint64_t, std::uint64_t, const std::string*>>
            orphans;
        for (auto& [path, node] : m_nodes)
        {
            if (!node.link)
            {
                continue;
            }
            const auto origin = m_nodes.find(node.link->origin_path);
            if (origin != m_nodes.end() && origin->second.layer == node.layer
                && origin->second.ordinal == node.link->origin)
            {
                node.link->emit_target = node.link->origin_path;
            }
            else
            {
                orphans.emplace_back(node.layer, node.link->origin, node.ordinal, &path);
            }
        }
        std::sort(orphans.begin(), orphans.end());
        for (std::size_t k = 0; k < orphans.size(); ++k)
        {
            const auto& [layer, origin, ordinal, path] = orphans[k];
            if (k == 0 || std::get<0>(orphans[k - 1]) != layer
                || std::get<1>(orphans[k - 1]) != origin)
            {
                m_nodes.at(*path).link->recipient = true;
                m_donors.emplace(std::pair(layer, origin), *path);
            }
            else
            {
                m_nodes.at(*path).link->emit_target = m_donors.at(std::pair(layer, origin));
            }
        }
    }

    // ---- pass 2 -------------------------------------------------------------------------------

    void add(const Entry& e, ContentReader* content)
    {
        m_sink.add(e, e.type == EntryType::file ? content : nullptr);
        ++m_stats.entries;
        if (e.type == EntryType::file)
        {
            m_stats.content_bytes += e.size;
        }
    }

    // The root is written only when a layer described it: its metadata is then worth keeping.
    void emit_directories()
    {
        if (m_root && !m_root->implicit)
        {
            add(*m_root, nullptr);
        }
        for (const auto& [path, node] : m_nodes)
        {
            if (node.type == EntryType::directory)
            {
                Entry e = *node.dir;
                e.path = path;
                e.implicit = false;
                add(e, nullptr);
            }
        }
    }

    void emit_layer(std::uint32_t i)
    {
        const Layer& layer = *m_layers[i];
        auto reader = layer.open();
        Entry e;
        std::uint64_t ordinal = 0;
        for (; reader->next(e); ++ordinal)
        {
            if (const auto donor = m_donors.find(std::pair(i, ordinal)); donor != m_donors.end())
            {
                e.path = donor->second;
                add(e, reader.get());
                continue;
            }
            if (e.type == EntryType::directory || e.path == "."
                || base_name(e.path).starts_with(kWhiteoutPrefix))
            {
                continue;
            }
            const auto it = m_nodes.find(e.path);
            if (it == m_nodes.end() || it->second.layer != i || it->second.ordinal != ordinal)
            {
                continue;
            }
            if (it->second.type != e.type)
            {
                changed(layer);
            }
            if (it->second.link)
            {
                if (it->second.link->recipient)
                {
                    continue; // written at its origin's position
                }
                e.link_target = it->second.link->emit_target;
            }
            add(e, reader.get());
        }
        if (ordinal != m_counts[i])
        {
            changed(layer);
        }
    }

    [[noreturn]] static void changed(const Layer& layer)
    {
        throw UserError(
            fmt::format("{}: changed while it was being read", layer.describe()),
            "do not modify the sources during a build");
    }

    std::span<const Layer* const> m_layers;
    EntrySink& m_sink;
    std::vector<std::uint64_t> m_counts; // entries per layer in pass 1
    NodeMap m_nodes;                     // every path but the root
    std::optional<Entry> m_root;
    std::map<std::pair<std::uint32_t, std::uint64_t>, std::string>
        m_donors; // (layer, ordinal) -> copy's path
    FlattenStats m_stats;
};

} // namespace

FlattenStats flatten(std::span<const Layer* const> layers, EntrySink& sink)
{
    return Flattener(layers, sink).run();
}

} // namespace azl::rootfs
