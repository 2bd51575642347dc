// Fuzzes the rootfs readers end to end: format detection (tar in any compression, OCI layout and
// docker-save archives with their index/manifest/config JSON), the two-pass layer flattener, and
// safe extraction. Any input is either read completely or refused with a UserError; extraction
// never leaves anything behind when it refuses.
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/rootfs/extract.hpp>
#include <azl/rootfs/flatten.hpp>
#include <azl/rootfs/source.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <vector>

namespace
{

// Reads every byte of every file, as the image writer does.
class DrainSink final : public azl::rootfs::EntrySink
{
public:
    void add(const azl::rootfs::Entry& entry, azl::rootfs::ContentReader* content) override
    {
        if (content == nullptr)
        {
            return;
        }
        std::array<std::byte, 65536> buf{};
        std::uint64_t total = 0;
        for (std::size_t n = 0; (n = content->read(buf)) > 0;)
        {
            total += n;
        }
        if (total != entry.size)
        {
            std::abort(); // a reader must deliver exactly the size it announced
        }
    }
};

// One scratch directory for the whole run, on tmpfs when there is one.
const std::filesystem::path& scratch()
{
    static const azl::TempDir dir(
        "azl-fuzz-rootfs",
        std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                  : std::filesystem::path());
    return dir.path();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto input = scratch() / "input";
    const auto dest = scratch() / "tree";
    azl::write_file_atomic(
        input, std::string_view(reinterpret_cast<const char*>(data), size), 0600);
    try
    {
        auto source = azl::rootfs::open_source(input, {.spool_dir = scratch()});
        std::vector<const azl::rootfs::Layer*> layers;
        for (const auto& layer : source.layers)
        {
            layers.push_back(layer.get());
        }
        DrainSink sink;
        (void)azl::rootfs::flatten(layers, sink);
    }
    catch (const azl::UserError&)
    {
    }
    try
    {
        azl::rootfs::ExtractOptions options;
        options.limits = {
            .max_entry_bytes = 16U << 20U, .max_total_bytes = 64U << 20U, .max_entries = 20000};
        (void)azl::rootfs::extract_archive(input, dest, options);
        std::filesystem::remove_all(dest);
    }
    catch (const azl::UserError&)
    {
        if (std::filesystem::exists(dest))
        {
            std::abort(); // a refused extraction must leave no destination behind
        }
    }
    // A refused extraction must not leave its staging directory either.
    for (const auto& e : std::filesystem::directory_iterator(scratch()))
    {
        if (e.path().filename().string().starts_with("tree.partial-"))
        {
            std::abort();
        }
    }
    return 0;
}
