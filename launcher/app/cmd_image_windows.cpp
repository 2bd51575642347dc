#include "context.hpp"

namespace azl::app
{

// The image commands build and check images with the image engine (libarchive, OpenSSL, zstd),
// which the Windows launcher does not carry (STYLE.md, "Platform code"): on Windows there is no
// `image` command group, and the help does not list one. Images are built on Linux or in WSL.
void add_image(CLI::App& /*app*/, Context& /*ctx*/) {}

} // namespace azl::app
