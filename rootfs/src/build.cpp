#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/progress.hpp>
#include <azl/common/scope_guard.hpp>
#include <azl/common/wsl_facts.hpp>
#include <azl/rootfs/build.hpp>
#include <azl/rootfs/flatten.hpp>
#include <azl/rootfs/source.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <system_error>
#include <utility>

namespace azl::rootfs
{

namespace fs = std::filesystem;

namespace
{

std::vector<std::string_view> split(std::string_view text, char sep)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;)
    {
        const std::size_t pos = text.find(sep, start);
        if (pos == std::string_view::npos)
        {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, pos - start));
        start = pos + 1;
    }
}

// An octal mode of 1 to 4 digits ("644", "0755", "4755").
std::optional<std::uint32_t> parse_mode(std::string_view text)
{
    if (text.empty() || text.size() > 4)
    {
        return std::nullopt;
    }
    std::uint32_t mode = 0;
    for (const char c : text)
    {
        if (c < '0' || c > '7')
        {
            return std::nullopt;
        }
        mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
    }
    return mode;
}

// The image path of a DEST argument, normalized; "." (the root) only when `allow_root`.
std::string
parse_dest(std::string_view dest, std::string_view flag, std::string_view spec, bool allow_root)
{
    const std::optional<std::string> normal = normalize_path(dest);
    if (dest.empty() || !normal)
    {
        throw UserError(
            fmt::format("{} '{}': '{}' is not a path inside the image", flag, spec, dest),
            "give an image path such as /etc/wsl.conf");
    }
    if (*normal == "." && !allow_root)
    {
        throw UserError(
            fmt::format("{} '{}': the destination is the image root", flag, spec),
            "name the file to create, e.g. /etc/wsl.conf");
    }
    return *normal;
}

bool is_inside(const fs::path& path, const fs::path& dir)
{
    auto [d, p] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
    return d == dir.end();
}

fs::path resolved(const fs::path& p)
{
    std::error_code ec;
    fs::path r = fs::weakly_canonical(fs::absolute(p), ec);
    return ec ? fs::absolute(p).lexically_normal() : r;
}

void check_output(const BuildOptions& options)
{
    const fs::path& out = options.output;
    if (out.empty())
    {
        throw UserError("no output file given", "pass -o FILE, e.g. -o AzureLinux.wsl");
    }
    std::error_code ec;
    const fs::file_status st = fs::status(out, ec);
    if (fs::is_directory(st))
    {
        throw UserError(
            fmt::format("output {} is a directory", out.string()),
            fmt::format("name the file to write, e.g. -o {}", (out / "AzureLinux.wsl").string()));
    }
    if (fs::exists(st) && !fs::is_regular_file(st))
    {
        throw UserError(
            fmt::format("output {} exists and is not a regular file", out.string()),
            "choose another output path");
    }
    const fs::path parent = out.parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec))
    {
        throw UserError(
            fmt::format(
                "cannot write {}: directory {} does not exist", out.string(), parent.string()),
            "create the directory first or choose another output path");
    }
    const Compression c = options.write.compression;
    if (has_wsl_extension(out) && c != Compression::gzip && c != Compression::xz)
    {
        throw UserError(
            fmt::format(
                "{}: a .wsl file must be gzip or xz compressed, not {}",
                out.string(),
                compression_name(c)),
            fmt::format(
                "use --compression gzip, or name the output {}",
                out.stem().string() + (c == Compression::zstd ? ".tar.zst" : ".tar")));
    }
}

// The output must not be one of the inputs, nor land inside a directory being read (the image would
// contain its own partial self).
void check_not_an_input(const fs::path& out, const fs::path& input, std::string_view what)
{
    std::error_code ec;
    if (fs::exists(out, ec) && fs::equivalent(out, input, ec))
    {
        throw UserError(
            fmt::format("output {} is also the {} {}", out.string(), what, input.string()),
            "write the image to another path");
    }
    if (fs::is_directory(input, ec) && is_inside(resolved(out), resolved(input)))
    {
        throw UserError(
            fmt::format("output {} is inside the {} {}", out.string(), what, input.string()),
            "the image would contain itself; write it outside that directory");
    }
}

void check_inputs(const BuildOptions& options)
{
    if (options.sources.empty())
    {
        throw UserError(
            "no source given",
            "pass --from with a directory, a tar, an OCI layout or a docker archive");
    }
    std::error_code ec;
    for (const auto& src : options.sources)
    {
        if (!fs::exists(src, ec))
        {
            throw UserError(
                fmt::format("source {} does not exist", src.string()), "check the --from path");
        }
        check_not_an_input(options.output, src, "source");
    }
    for (const auto& add : options.add_files)
    {
        if (!fs::exists(add.source, ec))
        {
            throw UserError(
                fmt::format("--add: {} does not exist", add.source.string()),
                "check the SRC of --add SRC:DEST");
        }
        if (fs::is_directory(add.source, ec))
        {
            throw UserError(
                fmt::format("--add: {} is a directory", add.source.string()),
                "use --add-dir DIR:DEST for directories");
        }
    }
    for (const auto& add : options.add_dirs)
    {
        if (!fs::is_directory(add.source, ec))
        {
            throw UserError(
                fmt::format("--add-dir: {} is not a directory", add.source.string()),
                "use --add SRC:DEST for single files");
        }
        check_not_an_input(options.output, add.source, "--add-dir directory");
    }
}

// Counts content bytes into the progress bar as they are read.
class CountingReader final : public ContentReader
{
public:
    CountingReader(ContentReader& inner, Progress& progress)
        : m_inner(inner)
        , m_progress(progress)
    {
    }

    std::size_t read(std::span<std::byte> buf) override
    {
        const std::size_t n = m_inner.read(buf);
        m_progress.advance(n);
        return n;
    }

private:
    ContentReader& m_inner;
    Progress& m_progress;
};

class ProgressSink final : public EntrySink
{
public:
    ProgressSink(EntrySink& inner, Progress& progress)
        : m_inner(inner)
        , m_progress(progress)
    {
    }

    void add(const Entry& entry, ContentReader* content) override
    {
        if (content == nullptr)
        {
            m_inner.add(entry, nullptr);
            return;
        }
        CountingReader counting(*content, m_progress);
        m_inner.add(entry, &counting);
    }

private:
    EntrySink& m_inner;
    Progress& m_progress;
};

// Hands each entry to the caller's TreeFilter, or straight on without one.
class FilterSink final : public EntrySink
{
public:
    FilterSink(TreeFilter* filter, EntrySink& next)
        : m_filter(filter)
        , m_next(next)
    {
    }

    void add(const Entry& entry, ContentReader* content) override
    {
        if (m_filter == nullptr)
        {
            m_next.add(entry, content);
            return;
        }
        m_filter->add(entry, content, m_next);
    }

private:
    TreeFilter* m_filter;
    EntrySink& m_next;
};

// "--remove X matched nothing", naming X as the user wrote it.
std::vector<std::string>
removal_warnings(const std::vector<std::string>& unmatched, const std::vector<std::string>& removes)
{
    std::vector<std::string> warnings;
    for (const auto& path : unmatched)
    {
        const std::optional<std::string> normal = normalize_path(path);
        const auto given = std::find_if(
            removes.begin(),
            removes.end(),
            [&](const std::string& r) { return normalize_path(r) == normal; });
        warnings.push_back(fmt::format(
            "--remove {}: nothing at that path in the image",
            given != removes.end() ? *given : "/" + normal.value_or(path)));
    }
    return warnings;
}

// Bytes of the tar stream a tree or file adds: a header block per entry and the content padded to
// blocks. A source file counts with its own size (a lower bound when it is compressed).
std::uint64_t tar_bytes_of(const fs::path& path)
{
    constexpr std::uint64_t kBlock = 512;
    std::error_code ec;
    if (!fs::is_directory(path, ec))
    {
        const auto size = fs::file_size(path, ec);
        return ec ? 0 : kBlock + size;
    }
    std::uint64_t total = kBlock;
    for (auto it = fs::recursive_directory_iterator(
             path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
    {
        total += kBlock;
        if (it->is_regular_file(ec) && !it->is_symlink(ec))
        {
            total += (it->file_size(ec) + kBlock - 1) / kBlock * kBlock;
        }
    }
    return total;
}

// What the archive's tar stream will be, estimated cheaply (no decompression, one stat per file):
// checked against the free space before writing, and the "needed ~N" when the disk fills anyway.
std::uint64_t
estimate_tar_bytes(const BuildOptions& options, const std::vector<AddFile>& preset_files)
{
    std::uint64_t total = 2 * std::uint64_t{512}; // the end-of-archive blocks
    for (const auto& source : options.sources)
    {
        total += tar_bytes_of(source);
    }
    for (const auto& add : preset_files)
    {
        total += tar_bytes_of(add.source);
    }
    for (const auto& add : options.add_files)
    {
        total += tar_bytes_of(add.source);
    }
    for (const auto& add : options.add_dirs)
    {
        total += tar_bytes_of(add.source);
    }
    return total;
}

// Removes OUT.sha256 of an earlier build before the new OUT replaces the old one: a build killed in
// between leaves OUT without a checksum file rather than with one that does not match it.
void remove_stale_checksum(const fs::path& output)
{
    fs::path sum = output;
    sum += ".sha256";
    std::error_code ec;
    fs::remove(sum, ec);
    if (ec)
    {
        throw SystemError(fmt::format("removing {}", sum.string()), ec.message());
    }
}

// Writes OUT.sha256 once OUT is in place; if that fails, OUT goes too, so the two always agree.
fs::path write_checksum_file(const WriteResult& archive)
{
    fs::path sum = archive.path;
    sum += ".sha256";
    ScopeGuard remove_image(
        [&]
        {
            std::error_code ec;
            fs::remove(archive.path, ec);
        });
    write_file_atomic(
        sum, fmt::format("{}  {}\n", archive.sha256, archive.path.filename().string()));
    remove_image.dismiss();
    return sum;
}

} // namespace

AddFile parse_add_file(std::string_view spec)
{
    const std::vector<std::string_view> parts = split(spec, ':');
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty())
    {
        throw UserError(
            fmt::format("--add '{}' is not SRC:DEST[:MODE]", spec),
            "e.g. --add ./wsl.conf:/etc/wsl.conf:0644 (paths cannot contain ':')");
    }
    AddFile add;
    add.source = std::string(parts[0]);
    std::string dest(parts[1]);
    // "DIR/" as the destination keeps the file's own name, as cp and Dockerfile COPY do.
    if (!dest.empty() && dest.back() == '/')
    {
        dest += add.source.filename().string();
    }
    add.dest = parse_dest(dest, "--add", spec, false);
    if (parts.size() == 3)
    {
        add.mode = parse_mode(parts[2]);
        if (!add.mode)
        {
            throw UserError(
                fmt::format("--add '{}': '{}' is not an octal mode", spec, parts[2]),
                "give the permissions in octal, e.g. 0644 or 755");
        }
    }
    return add;
}

AddDir parse_add_dir(std::string_view spec)
{
    const std::vector<std::string_view> parts = split(spec, ':');
    if (parts.size() != 2 || parts[0].empty())
    {
        throw UserError(
            fmt::format("--add-dir '{}' is not DIR:DEST", spec),
            "e.g. --add-dir ./overlay:/ (paths cannot contain ':')");
    }
    return {std::string(parts[0]), parse_dest(parts[1], "--add-dir", spec, true)};
}

ImageBuild::ImageBuild(BuildOptions options)
    : m_options(std::move(options))
{
    check_output(m_options);
    check_inputs(m_options);
}

void ImageBuild::add_preset_file(AddFile file)
{
    m_preset_files.push_back(std::move(file));
}

void ImageBuild::set_filter(TreeFilter& filter) noexcept
{
    m_filter = &filter;
}

BuildResult ImageBuild::run()
{
    const BuildOptions& options = m_options;
    const SourceOptions source_options{.platform = options.platform, .spool_dir = {}};
    std::vector<Source> sources;
    std::vector<std::unique_ptr<Layer>> injected;
    std::vector<const Layer*> layers;
    for (const auto& path : options.sources)
    {
        sources.push_back(open_source(path, source_options));
        for (const auto& layer : sources.back().layers)
        {
            layers.push_back(layer.get());
        }
    }
    if (!options.removes.empty())
    {
        injected.push_back(make_removal_layer(options.removes));
    }
    for (const auto& add : m_preset_files)
    {
        injected.push_back(make_file_layer(add.source, add.dest, add.mode));
    }
    for (const auto& add : options.add_dirs)
    {
        injected.push_back(make_directory_layer(add.source, add.dest));
    }
    for (const auto& add : options.add_files)
    {
        injected.push_back(make_file_layer(add.source, add.dest, add.mode));
    }
    for (const auto& layer : injected)
    {
        layers.push_back(layer.get());
    }

    BuildResult result;
    {
        WriteOptions write = options.write;
        // Removals make the sum of the sources an overestimate: no guess then.
        if (write.expected_tar_bytes == 0 && options.removes.empty())
        {
            write.expected_tar_bytes = estimate_tar_bytes(options, m_preset_files);
        }
        ArchiveWriter writer(options.output, write);
        FlattenStats stats;
        {
            Progress progress(
                fmt::format("Building {}", options.output.filename().string()),
                0,
                options.progress);
            FilterSink filtered(m_filter, writer);
            ProgressSink sink(filtered, progress);
            stats = flatten(layers, sink);
        }
        if (m_filter != nullptr)
        {
            m_filter->finish(writer);
        }
        remove_stale_checksum(options.output);
        result.archive = writer.commit();
        result.warnings = removal_warnings(stats.unmatched_whiteouts, options.removes);
    }
    result.checksum_file = write_checksum_file(result.archive);
    return result;
}

BuildResult build_image(const BuildOptions& options)
{
    return ImageBuild(options).run();
}

} // namespace azl::rootfs
