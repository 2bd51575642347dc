#pragma once

#include <azl/rootfs/entry.hpp>
#include <azl/rootfs/source.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace azl::rootfs
{

// What flattening produced.
struct FlattenStats
{
    std::uint64_t entries = 0;       // entries given to the sink
    std::uint64_t content_bytes = 0; // regular file bytes given to the sink
    std::vector<std::string>
        unmatched_whiteouts; // removals (from make_removal_layer) that matched nothing
};

// Applies `layers` (bottom first) the way OCI/Docker runtimes do — `.wh.NAME` deletes NAME from
// lower layers, `.wh..wh..opq` empties a directory of lower-layer content, later entries win,
// directories merge, a non-directory replaces a whole lower subtree, hard links whose target did
// not survive become regular files — and gives the resulting tree to `sink`: first every directory
// in path order, then the other entries layer by layer in stream order (so hard link targets
// precede their links). Whiteout entries themselves never reach the sink. Deterministic for the
// same inputs. Streams content: memory grows with the number of entries, never with file sizes.
FlattenStats flatten(std::span<const Layer* const> layers, EntrySink& sink);

} // namespace azl::rootfs
