#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace azl::rootfs
{

// What `image inspect` reports.
struct InspectReport
{
    std::filesystem::path input;
    std::string format;           // "tar", "directory", "oci-layout", "docker-archive"
    std::string compression;      // of the file; "none" for directories
    std::uint64_t file_bytes = 0; // size on disk of the input file (0 for directories)
    std::size_t layers = 0;
    std::uint64_t entries = 0; // in the flattened tree
    std::uint64_t files = 0;
    std::uint64_t directories = 0;
    std::uint64_t symlinks = 0;
    std::uint64_t hardlinks = 0;
    std::uint64_t other = 0;         // devices, fifos
    std::uint64_t content_bytes = 0; // sum of regular file sizes
    std::map<std::string, std::string>
        os_release;                     // /etc/os-release (or /usr/lib/os-release) fields
    std::vector<std::string> wsl_files; // WSL-related files present, e.g. "etc/wsl.conf"
};

// Reads any source `image build` accepts and summarizes its flattened tree.
InspectReport
inspect_image(const std::filesystem::path& input, const std::string& platform = "linux/amd64");

// The report as JSON (stable keys, snake_case).
nlohmann::json to_json(const InspectReport& report);

} // namespace azl::rootfs
