// OCI image layouts and docker-save archives: from index.json / manifest.json to the list of layer
// blobs, selecting the requested platform and checking every digest and size on the way.

#include "source_internal.hpp"

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/common/text.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace azl::rootfs::detail
{

namespace
{

using nlohmann::json;

constexpr std::uint64_t kMaxJsonBytes = std::uint64_t{16} << 20U;
constexpr int kMaxIndexDepth = 4;

constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

struct Platform
{
    std::string os;
    std::string arch;
    std::string variant;

    friend bool operator==(const Platform&, const Platform&) = default;
};

std::string to_string(const Platform& p)
{
    return p.variant.empty() ? p.os + "/" + p.arch : p.os + "/" + p.arch + "/" + p.variant;
}

// The same spellings containerd treats as equal: aarch64 = arm64 = arm64/v8, arm = arm/v7, ...
Platform normalized(Platform p)
{
    p.os = ascii_lower(p.os);
    p.arch = ascii_lower(p.arch);
    p.variant = ascii_lower(p.variant);
    if (p.arch == "x86_64" || p.arch == "x86-64")
    {
        p.arch = "amd64";
    }
    else if (p.arch == "aarch64")
    {
        p.arch = "arm64";
    }
    else if (p.arch == "i386")
    {
        p.arch = "386";
    }
    if (p.arch == "arm64" && p.variant.empty())
    {
        p.variant = "v8";
    }
    else if (p.arch == "arm" && p.variant.empty())
    {
        p.variant = "v7";
    }
    else if (p.arch == "amd64" && p.variant == "v1")
    {
        p.variant.clear();
    }
    return p;
}

Platform parse_platform(const std::string& text)
{
    Platform p;
    const auto first = text.find('/');
    const auto second = first == std::string::npos ? std::string::npos : text.find('/', first + 1);
    if (first != std::string::npos)
    {
        p.os = text.substr(0, first);
        p.arch = text.substr(
            first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
        p.variant = second == std::string::npos ? std::string() : text.substr(second + 1);
    }
    if (p.os.empty() || p.arch.empty() || p.variant.find('/') != std::string::npos
        || (second != std::string::npos && p.variant.empty()))
    {
        throw UserError(
            fmt::format("platform '{}' is not of the form os/arch[/variant]", text),
            "e.g. --platform linux/amd64 or --platform linux/arm64/v8");
    }
    return normalized(p);
}

std::string string_field(const json& j, const char* key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Platform of a JSON object with os/architecture/variant (a descriptor's platform or a config).
std::optional<Platform> platform_of(const json& j)
{
    if (!j.is_object() || string_field(j, "os").empty() || string_field(j, "architecture").empty())
    {
        return std::nullopt;
    }
    return normalized(Platform{
        string_field(j, "os"), string_field(j, "architecture"), string_field(j, "variant")});
}

struct Descriptor
{
    std::string media_type;
    std::string digest;
    std::uint64_t size = 0;
    std::optional<Platform> platform;
    bool attestation = false;
};

Descriptor parse_descriptor(const json& j, const std::string& where)
{
    const auto size = j.is_object() ? j.find("size") : j.end();
    if (!j.is_object() || string_field(j, "digest").empty() || size == j.end()
        || !size->is_number_unsigned())
    {
        throw UserError(
            fmt::format("{}: malformed descriptor {}", where, j.dump()),
            "the image layout is damaged; obtain it again");
    }
    Descriptor d;
    d.media_type = string_field(j, "mediaType");
    d.digest = string_field(j, "digest");
    d.size = size->get<std::uint64_t>();
    if (const auto p = j.find("platform"); p != j.end())
    {
        d.platform = platform_of(*p);
    }
    if (const auto a = j.find("annotations"); a != j.end() && a->is_object())
    {
        d.attestation = string_field(*a, "vnd.docker.reference.type") == "attestation-manifest";
    }
    d.attestation = d.attestation || (d.platform && d.platform->os == "unknown");
    return d;
}

// "sha256:<hex>" -> "blobs/sha256/<hex>", refusing anything that could name another path.
std::string blob_path(const std::string& digest, const std::string& where)
{
    Digester check(digest, where); // validates the algorithm and the hex
    const auto colon = digest.find(':');
    return "blobs/" + digest.substr(0, colon) + "/" + digest.substr(colon + 1);
}

FileRange find_blob(const BlobStore& store, const Descriptor& d, const std::string& where)
{
    const std::string path = blob_path(d.digest, where);
    auto range = store.find(path);
    if (!range)
    {
        throw UserError(
            fmt::format(
                "{}: blob {} is missing (expected at {})", where, d.digest, store.describe(path)),
            "the image layout is incomplete; copy it again, e.g. with `skopeo copy`");
    }
    if (range->length != d.size)
    {
        throw UserError(
            fmt::format(
                "{}: {} bytes, but its descriptor says {}",
                store.describe(path),
                range->length,
                d.size),
            "the image is corrupt or was modified; obtain it again");
    }
    return *range;
}

json parse_json(const std::string& text, const std::string& name)
{
    try
    {
        return json::parse(text);
    }
    catch (const json::exception& e)
    {
        throw UserError(
            fmt::format("{}: invalid JSON: {}", name, e.what()),
            "the image is damaged; obtain it again");
    }
}

json read_json_file(const BlobStore& store, const std::string& rel)
{
    const auto range = store.find(rel);
    if (!range)
    {
        throw UserError(
            fmt::format("{}: missing", store.describe(rel)),
            "the image is incomplete; obtain it again");
    }
    return parse_json(read_small(*range, store.describe(rel), kMaxJsonBytes), store.describe(rel));
}

json read_json_blob(const BlobStore& store, const Descriptor& d, const std::string& where)
{
    const FileRange range = find_blob(store, d, where);
    const std::string name = store.describe(blob_path(d.digest, where));
    const std::string text = read_small(range, name, kMaxJsonBytes);
    Digester digester(d.digest, name);
    digester.update(std::as_bytes(std::span(text.data(), text.size())));
    digester.verify();
    return parse_json(text, name);
}

// Image manifests reachable from an index, nested indexes included.
// NOLINTNEXTLINE(misc-no-recursion): nesting is bounded by kMaxIndexDepth
void collect_manifests(
    const BlobStore& store,
    const json& index,
    const std::string& where,
    int depth,
    std::vector<Descriptor>& out)
{
    const auto manifests = index.is_object() ? index.find("manifests") : index.end();
    if (manifests == index.end() || !manifests->is_array())
    {
        throw UserError(
            fmt::format("{}: not an OCI image index (no \"manifests\" list)", where),
            "the image layout is damaged; obtain it again");
    }
    for (const auto& item : *manifests)
    {
        Descriptor d = parse_descriptor(item, where);
        if (d.media_type == kOciIndex || d.media_type == kDockerList)
        {
            if (depth >= kMaxIndexDepth)
            {
                throw UserError(fmt::format("{}: image indexes nested too deeply", where));
            }
            collect_manifests(
                store,
                read_json_blob(store, d, where),
                store.describe(blob_path(d.digest, where)),
                depth + 1,
                out);
        }
        else if (
            d.media_type.empty() || d.media_type == kOciManifest || d.media_type == kDockerManifest)
        {
            if (!d.attestation)
            {
                out.push_back(std::move(d));
            }
        }
        else
        {
            logger("rootfs")->debug("{}: ignoring {} {}", where, d.media_type, d.digest);
        }
    }
}

std::string platform_list(const std::vector<Descriptor>& manifests)
{
    std::vector<std::string> names;
    names.reserve(manifests.size());
    for (const auto& d : manifests)
    {
        names.push_back(d.platform ? to_string(*d.platform) : "(unspecified)");
    }
    return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

const Descriptor& select_manifest(
    const std::vector<Descriptor>& manifests, const Platform& want, const std::string& where)
{
    std::vector<const Descriptor*> matches;
    for (const auto& d : manifests)
    {
        if (d.platform && *d.platform == want)
        {
            matches.push_back(&d);
        }
    }
    if (matches.size() == 1)
    {
        return *matches.front();
    }
    if (matches.size() > 1)
    {
        throw UserError(
            fmt::format(
                "{}: {} manifests match platform {}", where, matches.size(), to_string(want)),
            "the index is ambiguous; copy only the image you want into a new layout");
    }
    // A lone manifest without a platform (e.g. `docker save`'s OCI output): its config decides.
    if (manifests.size() == 1 && !manifests.front().platform)
    {
        return manifests.front();
    }
    throw UserError(
        fmt::format(
            "{}: no image for platform {}; available: {}",
            where,
            to_string(want),
            platform_list(manifests)),
        "choose one with --platform");
}

// Compares the platform a config declares (if any) with the one asked for.
void check_config_platform(const json& config, const Platform& want, const std::string& name)
{
    const auto have = platform_of(config);
    if (have && !(*have == want))
    {
        throw UserError(
            fmt::format("{}: the image is for {}, not {}", name, to_string(*have), to_string(want)),
            fmt::format("pass --platform {} to use it", to_string(*have)));
    }
}

bool supported_layer_type(std::string_view t)
{
    static constexpr std::array<std::string_view, 10> kTypes = {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    return std::find(kTypes.begin(), kTypes.end(), t) != kTypes.end();
}

void check_layout_version(const BlobStore& store)
{
    const json layout = read_json_file(store, "oci-layout");
    const std::string version = string_field(layout, "imageLayoutVersion");
    if (!version.starts_with("1."))
    {
        throw UserError(
            fmt::format(
                "{}: unsupported image layout version '{}'", store.describe("oci-layout"), version),
            "only OCI image layout 1.x is supported");
    }
}

// The digest a docker-save path implies: "blobs/sha256/<hex>" (new format) or "<hex>.json" (an old
// format config, named by its image ID, which is its digest). Empty when the name implies none.
std::string digest_from_name(const std::string& path)
{
    const auto is_hex64 = [](std::string_view s)
    {
        return s.size() == 64
               && std::all_of(
                   s.begin(),
                   s.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    };
    constexpr std::string_view kBlobs = "blobs/sha256/";
    if (path.starts_with(kBlobs) && is_hex64(std::string_view(path).substr(kBlobs.size())))
    {
        return "sha256:" + path.substr(kBlobs.size());
    }
    if (path.size() == 69 && path.ends_with(".json")
        && is_hex64(std::string_view(path).substr(0, 64)))
    {
        return "sha256:" + path.substr(0, 64);
    }
    return {};
}

FileRange find_docker_file(const BlobStore& store, const std::string& rel, const char* what)
{
    auto range = store.find(rel);
    if (!range)
    {
        throw UserError(
            fmt::format(
                "{}: {} '{}' listed in manifest.json is missing", store.describe(rel), what, rel),
            "the archive is incomplete; run `docker save` again");
    }
    return *range;
}

} // namespace

void open_oci_layout(const BlobStore& store, const SourceOptions& options, Source& source)
{
    const Platform want = parse_platform(options.platform);
    check_layout_version(store);
    const std::string index_name = store.describe("index.json");
    std::vector<Descriptor> manifests;
    collect_manifests(store, read_json_file(store, "index.json"), index_name, 0, manifests);
    const Descriptor& chosen = select_manifest(manifests, want, index_name);
    const std::string manifest_name = store.describe(blob_path(chosen.digest, index_name));
    const json manifest = read_json_blob(store, chosen, index_name);
    const auto config = manifest.is_object() ? manifest.find("config") : manifest.end();
    const auto layers = manifest.is_object() ? manifest.find("layers") : manifest.end();
    if (config == manifest.end() || layers == manifest.end() || !layers->is_array())
    {
        throw UserError(
            fmt::format("{}: not an image manifest (no config or layers)", manifest_name),
            "the image layout is damaged; obtain it again");
    }
    const Descriptor config_desc = parse_descriptor(*config, manifest_name);
    const json config_json = read_json_blob(store, config_desc, manifest_name);
    if (!chosen.platform)
    {
        check_config_platform(
            config_json, want, store.describe(blob_path(config_desc.digest, manifest_name)));
    }
    for (const auto& item : *layers)
    {
        const Descriptor d = parse_descriptor(item, manifest_name);
        if (!supported_layer_type(d.media_type))
        {
            throw UserError(
                fmt::format(
                    "{}: layer {} has unsupported media type '{}'",
                    manifest_name,
                    d.digest,
                    d.media_type),
                "supported: tar, tar+gzip and tar+zstd layers (encrypted layers are not)");
        }
        FileRange range = find_blob(store, d, manifest_name);
        source.layers.push_back(make_blob_layer(BlobSpec{
            .name = store.describe(blob_path(d.digest, manifest_name)),
            .range = std::move(range),
            .digest = d.digest,
            .spool_dir = options.spool_dir,
        }));
    }
}

void open_docker_archive(const BlobStore& store, const SourceOptions& options, Source& source)
{
    const Platform want = parse_platform(options.platform);
    const std::string manifest_name = store.describe("manifest.json");
    const json manifest = read_json_file(store, "manifest.json");
    if (!manifest.is_array() || manifest.empty())
    {
        throw UserError(
            fmt::format("{}: expected a list of images", manifest_name),
            "the archive is damaged; run `docker save` again");
    }
    if (manifest.size() > 1)
    {
        std::vector<std::string> names;
        for (const auto& image : manifest)
        {
            const auto tags = image.is_object() ? image.find("RepoTags") : image.end();
            names.push_back(
                tags != image.end() && tags->is_array() && !tags->empty()
                        && tags->front().is_string()
                    ? tags->front().get<std::string>()
                    : string_field(image, "Config"));
        }
        throw UserError(
            fmt::format(
                "{}: holds {} images ({}); only one image can be flattened",
                manifest_name,
                manifest.size(),
                fmt::join(names, ", ")),
            "save a single image: docker save IMAGE -o image.tar");
    }
    const json& image = manifest.front();
    const std::string config_path = string_field(image, "Config");
    const auto layers = image.is_object() ? image.find("Layers") : image.end();
    if (config_path.empty() || layers == image.end() || !layers->is_array())
    {
        throw UserError(
            fmt::format("{}: image entry without Config or Layers", manifest_name),
            "the archive is damaged; run `docker save` again");
    }
    const std::string config_name = store.describe(config_path);
    const std::string config_text =
        read_small(find_docker_file(store, config_path, "config"), config_name, kMaxJsonBytes);
    if (const std::string digest = digest_from_name(config_path); !digest.empty())
    {
        Digester digester(digest, config_name);
        digester.update(std::as_bytes(std::span(config_text.data(), config_text.size())));
        digester.verify();
    }
    check_config_platform(parse_json(config_text, config_name), want, config_name);
    for (const auto& layer : *layers)
    {
        if (!layer.is_string())
        {
            throw UserError(fmt::format("{}: a layer entry is not a path", manifest_name));
        }
        const std::string path = layer.get<std::string>();
        source.layers.push_back(make_blob_layer(BlobSpec{
            .name = store.describe(path),
            .range = find_docker_file(store, path, "layer"),
            .digest = digest_from_name(path),
            .spool_dir = options.spool_dir,
        }));
    }
}

} // namespace azl::rootfs::detail
