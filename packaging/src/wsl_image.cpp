// A WSL image build: stage the generated files, add them as layers under the user's own additions,
// and run the image engine with the WSL filter (wsl_filter.cpp) between the flattener and the
// archive writer.

#include "wsl_filter.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/wsl_facts.hpp>
#include <azl/packaging/assets.hpp>
#include <azl/packaging/wsl_image.hpp>
#include <azl/rootfs/elf.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <fstream>

namespace azl::packaging
{

namespace fs = std::filesystem;

namespace
{

constexpr std::uintmax_t kMaxAnswersBytes = 1U << 20U;

// A host program to put into the image, and the architecture it is built for (if it is ELF).
struct GuestProgram
{
    fs::path path;
    std::optional<std::string> arch;
};

GuestProgram find_guest_program(
    const std::optional<fs::path>& given, const fs::path& dir, const char* name, const char* option)
{
    const fs::path path = given ? *given : dir / name;
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (!fs::exists(st))
    {
        throw UserError(
            given ? fmt::format("{} {}: no such file", option, path.string())
                  : fmt::format(
                      "{} is not beside this program ({} does not exist): a .wsl image carries it",
                      name,
                      path.string()),
            given ? fmt::format(
                "check the path; or pass --no-guest-tools when the image's own packages provide {}",
                name)
                  : fmt::format(
                      "build it (cmake --build BUILD_DIR --target {}), pass {} PATH, or "
                      "--no-guest-tools when the image's own packages provide it",
                      name,
                      option));
    }
    if (!fs::is_regular_file(st))
    {
        throw UserError(fmt::format("{} {}: not a regular file", option, path.string()));
    }
    std::ifstream in(path, std::ios::binary);
    std::string head(rootfs::kElfProbeBytes, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    if (in.bad() || (!in && in.gcount() == 0))
    {
        throw UserError(fmt::format("{} {}: cannot read it", option, path.string()));
    }
    head.resize(static_cast<std::size_t>(in.gcount()));
    return {path, detail::program_arch(head)};
}

// Refuses WSL-only options when the build writes a plain tree, so they are not silently ignored.
void refuse_wsl_options(const WslImageOptions& o)
{
    std::vector<std::string> given;
    const auto note = [&](bool set, const char* flag)
    {
        if (set)
        {
            given.emplace_back(flag);
        }
    };
    note(o.default_name != kDefaultName, "--default-name");
    note(o.oobe.has_value(), "--oobe");
    note(o.bridge.has_value(), "--bridge");
    note(o.answers.has_value(), "--answers");
    note(o.guest_tools == GuestTools::from_image, "--no-guest-tools");
    note(o.bridge_files == BridgeFiles::leave_out, "--no-bridge");
    note(o.xattrs == Wsl1Xattrs::keep, "--keep-xattrs");
    note(o.units == HostileUnits::mask, "--mask-units");
    if (!given.empty())
    {
        throw UserError(
            fmt::format(
                "{} {} only for WSL images, and {} is not one",
                fmt::join(given, ", "),
                given.size() == 1 ? "applies" : "apply",
                o.build.output.filename().string()),
            "name the output *.wsl, or pass --wsl-files to add the WSL files to a plain tar",
            ExitCode::usage);
    }
}

std::string read_answers(const fs::path& file)
{
    std::string text = read_file(file, kMaxAnswersBytes);
    const auto doc = nlohmann::json::parse(text, nullptr, false, false);
    if (!doc.is_object())
    {
        throw UserError(
            fmt::format("--answers {}: not a JSON object", file.string()),
            "start from packaging/assets/answers.template.json; check it with azurelinux-oobe "
            "--check --answers FILE");
    }
    return text;
}

// The generated files, written into a private staging directory.
class Staging
{
public:
    explicit Staging(rootfs::ImageBuild& build)
        : m_build(build)
    {
    }

    void add_text(
        std::string_view name, std::string_view text, std::string_view dest, std::uint32_t mode)
    {
        const fs::path file = m_dir.path() / name;
        write_file_atomic(file, text, 0600);
        add_file(file, dest, mode);
    }

    void add_file(const fs::path& file, std::string_view dest, std::uint32_t mode)
    {
        m_build.add_preset_file(rootfs::AddFile{file, std::string(dest.substr(1)), mode});
        m_added.emplace_back(dest);
    }

    [[nodiscard]] std::vector<std::string> added() const
    {
        std::vector<std::string> sorted = m_added;
        std::sort(sorted.begin(), sorted.end());
        return sorted;
    }

private:
    rootfs::ImageBuild& m_build;
    TempDir m_dir{"azl-wsl-files"};
    std::vector<std::string> m_added;
};

detail::RequiredFile required(std::string_view guest_path, std::string_view what, bool from_image)
{
    return {
        std::string(guest_path.substr(1)),
        fmt::format("the image has no {}, which {}", guest_path, what),
        from_image ? std::string("install the package that provides it, or drop --no-guest-tools "
                                 "so the build adds it")
                   : std::string("do not --remove it or replace it with a directory")};
}

std::vector<std::string> wsl_warnings(const detail::WslFilterReport& r)
{
    std::vector<std::string> warnings;
    for (const auto& unit : r.enabled)
    {
        warnings.push_back(fmt::format(
            "systemd unit {} is enabled but breaks under WSL: rebuild with --mask-units to mask "
            "it",
            unit));
    }
    return warnings;
}

} // namespace

WslImageResult build_wsl_image(const WslImageOptions& options)
{
    WslImageResult result;
    result.wsl_files =
        options.wsl_files == WslFiles::on
        || (options.wsl_files == WslFiles::auto_detect && has_wsl_extension(options.build.output));
    if (!result.wsl_files)
    {
        refuse_wsl_options(options);
        result.build = rootfs::build_image(options.build);
        return result;
    }
    validate_default_name(options.default_name, "--default-name");
    rootfs::ImageBuild build(options.build); // a bad output fails before a missing program
    const bool add_tools = options.guest_tools == GuestTools::add;
    const bool bridge = options.bridge_files == BridgeFiles::include;
    std::optional<GuestProgram> oobe;
    std::optional<GuestProgram> bridge_program;
    if (add_tools)
    {
        oobe = find_guest_program(options.oobe, options.program_dir, "azurelinux-oobe", "--oobe");
        if (bridge)
        {
            bridge_program = find_guest_program(
                options.bridge, options.program_dir, "azurelinux-bridge", "--bridge");
            if (oobe->arch && bridge_program->arch && *oobe->arch != *bridge_program->arch)
            {
                throw UserError(
                    fmt::format(
                        "{} is built for {} but {} for {}",
                        oobe->path.string(),
                        *oobe->arch,
                        bridge_program->path.string(),
                        *bridge_program->arch),
                    "give --oobe and --bridge of the image's architecture");
            }
        }
    }
    const std::string answers = options.answers ? read_answers(*options.answers) : std::string();

    Staging staging(build);
    DistributionConf conf;
    conf.default_name = options.default_name;
    staging.add_text(
        "wsl-distribution.conf", render_distribution_conf(conf), kDistributionConfGuestPath, 0644);
    staging.add_text("azurelinux.ico", icon_ico(), kIconGuestPath, 0644);
    staging.add_text(
        "terminal-profile.json", render_terminal_profile(), kTerminalProfileGuestPath, 0640);
    if (oobe)
    {
        staging.add_file(oobe->path, kOobeGuestPath, 0755);
    }
    if (bridge)
    {
        if (bridge_program)
        {
            staging.add_file(bridge_program->path, kBridgeGuestPath, 0755);
        }
        if (const auto hook = bridge_hook())
        {
            staging.add_text("azurelinux-bridge.sh", *hook, kBridgeHookGuestPath, 0644);
        }
        staging.add_text(
            "bridge.conf", text_asset(TextAsset::bridge_conf), kBridgeConfGuestPath, 0644);
        if (const auto unit = bridge_user_unit())
        {
            // Started per user by systemd when the image boots it; the login hook does otherwise.
            staging.add_text("azurelinux-bridge.service", *unit, kBridgeUnitGuestPath, 0644);
        }
    }
    if (options.answers)
    {
        staging.add_text("oobe.json", answers, kAnswersGuestPath, 0600);
    }

    detail::WslFilterOptions filter_options;
    filter_options.strip_xattrs = options.xattrs == Wsl1Xattrs::strip;
    filter_options.mask_units = options.units == HostileUnits::mask;
    filter_options.mtime = build.options().write.source_date_epoch.value_or(std::time(nullptr));
    filter_options.arch = oobe ? oobe->arch : std::nullopt;
    filter_options.required.push_back(
        required(kOobeGuestPath, "/etc/wsl-distribution.conf names as [oobe] command", !add_tools));
    if (bridge)
    {
        filter_options.required.push_back(
            required(kBridgeGuestPath, "the bridge's login-shell hook runs", !add_tools));
    }
    if (const auto gitconfig = bridge_gitconfig(); bridge && gitconfig)
    {
        // Git's credential helper (Git Credential Manager on Windows): only where the image has
        // no system git configuration of its own.
        filter_options.files.emplace_back(std::string(kGitConfigGuestPath.substr(1)), *gitconfig);
    }
    if (bridge && bridge_user_unit())
    {
        filter_options.symlinks.emplace_back(
            std::string(kBridgeUnitEnableGuestPath.substr(1)), std::string(kBridgeUnitGuestPath));
    }
    detail::WslFilter filter(std::move(filter_options));
    build.set_filter(filter);

    result.build = build.run();
    const detail::WslFilterReport& report = filter.report();
    for (auto& w : wsl_warnings(report))
    {
        result.build.warnings.push_back(std::move(w));
    }
    result.added = staging.added();
    if (report.wsl_conf_added)
    {
        result.added.emplace_back(kWslConfGuestPath);
    }
    for (const auto& path : report.files_added)
    {
        result.added.push_back("/" + path);
    }
    std::sort(result.added.begin(), result.added.end());
    result.masked_units = report.masked;
    result.systemd = report.systemd;
    result.wsl_conf_added = report.wsl_conf_added;
    result.stripped_xattrs = report.stripped_xattrs;
    result.arch = report.image_arch;
    return result;
}

} // namespace azl::packaging
