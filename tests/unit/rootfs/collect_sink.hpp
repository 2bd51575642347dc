#pragma once
// Test helpers for sources and flattening: a sink that keeps everything it is given, and an
// in-memory layer.

#include <azl/rootfs/entry.hpp>
#include <azl/rootfs/flatten.hpp>
#include <azl/rootfs/source.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace azl::test
{

// One entry as the sink saw it, with its content.
struct Collected
{
    rootfs::Entry entry;
    std::string content;
};

// Keeps every entry; reads content in small odd-sized pieces to exercise partial reads.
class CollectSink final : public rootfs::EntrySink
{
public:
    void add(const rootfs::Entry& entry, rootfs::ContentReader* content) override
    {
        Collected c{entry, {}};
        if (entry.type == rootfs::EntryType::file)
        {
            REQUIRE(content != nullptr);
            std::array<std::byte, 4093> buf{};
            for (std::size_t n = 0; (n = content->read(buf)) > 0;)
            {
                c.content.append(reinterpret_cast<const char*>(buf.data()), n);
            }
            CHECK(c.content.size() == entry.size);
        }
        else
        {
            CHECK(content == nullptr);
        }
        items.push_back(std::move(c));
    }

    // The entry at `path`, or null.
    [[nodiscard]] const Collected* find(const std::string& path) const
    {
        for (const auto& c : items)
        {
            if (c.entry.path == path)
            {
                return &c;
            }
        }
        return nullptr;
    }

    // The entry at `path`; fails the test when absent.
    [[nodiscard]] const Collected& at(const std::string& path) const
    {
        const Collected* c = find(path);
        INFO("path " << path);
        REQUIRE(c != nullptr);
        return *c;
    }

    // Paths in output order.
    [[nodiscard]] std::vector<std::string> paths() const
    {
        std::vector<std::string> out;
        for (const auto& c : items)
        {
            out.push_back(c.entry.path);
        }
        return out;
    }

    std::vector<Collected> items;
};

// Flattens all layers of `source` into a new sink.
inline std::unique_ptr<CollectSink>
flatten_all(const std::vector<const rootfs::Layer*>& layers, rootfs::FlattenStats* stats = nullptr)
{
    auto sink = std::make_unique<CollectSink>();
    auto s = rootfs::flatten(layers, *sink);
    if (stats != nullptr)
    {
        *stats = std::move(s);
    }
    return sink;
}

inline std::vector<const rootfs::Layer*> layer_ptrs(const rootfs::Source& source)
{
    std::vector<const rootfs::Layer*> out;
    for (const auto& l : source.layers)
    {
        out.push_back(l.get());
    }
    return out;
}

// A layer of fixed entries (content keyed by path) for flattener tests.
class MemLayer final : public rootfs::Layer
{
public:
    struct Item
    {
        rootfs::Entry entry;
        std::string content;
    };

    explicit MemLayer(std::vector<Item> items, std::string name = "mem")
        : m_items(std::move(items))
        , m_name(std::move(name))
    {
    }

    [[nodiscard]] std::unique_ptr<rootfs::LayerReader> open() const override
    {
        return std::make_unique<Reader>(m_items);
    }

    [[nodiscard]] std::string describe() const override
    {
        return m_name;
    }

private:
    class Reader final : public rootfs::LayerReader
    {
    public:
        explicit Reader(const std::vector<Item>& items)
            : m_items(items)
        {
        }

        bool next(rootfs::Entry& e) override
        {
            if (m_next == m_items.size())
            {
                return false;
            }
            m_current = &m_items[m_next++];
            m_pos = 0;
            e = m_current->entry;
            return true;
        }

        std::size_t read(std::span<std::byte> buf) override
        {
            const std::size_t n = std::min(buf.size(), m_current->content.size() - m_pos);
            std::memcpy(buf.data(), m_current->content.data() + m_pos, n);
            m_pos += n;
            return n;
        }

    private:
        const std::vector<Item>& m_items;
        const Item* m_current = nullptr;
        std::size_t m_next = 0;
        std::size_t m_pos = 0;
    };

    std::vector<Item> m_items;
    std::string m_name;
};

// Entry shorthands for MemLayer.
inline MemLayer::Item mem_file(std::string path, std::string content, std::uint32_t mode = 0644)
{
    rootfs::Entry e;
    e.path = std::move(path);
    e.type = rootfs::EntryType::file;
    e.mode = mode;
    e.size = content.size();
    return {e, std::move(content)};
}

inline MemLayer::Item mem_dir(std::string path, std::uint32_t mode = 0755, std::uint32_t uid = 0)
{
    rootfs::Entry e;
    e.path = std::move(path);
    e.type = rootfs::EntryType::directory;
    e.mode = mode;
    e.uid = uid;
    return {e, {}};
}

inline MemLayer::Item
mem_link(std::string path, std::string target, rootfs::EntryType type = rootfs::EntryType::hardlink)
{
    rootfs::Entry e;
    e.path = std::move(path);
    e.type = type;
    e.mode = type == rootfs::EntryType::symlink ? 0777 : 0644;
    e.link_target = std::move(target);
    return {e, {}};
}

// An OCI whiteout for `path` ("a/b" -> "a/.wh.b").
inline MemLayer::Item mem_whiteout(const std::string& path)
{
    const auto slash = path.rfind('/');
    rootfs::Entry e;
    e.path = slash == std::string::npos
                 ? ".wh." + path
                 : path.substr(0, slash + 1) + ".wh." + path.substr(slash + 1);
    return {e, {}};
}

} // namespace azl::test
