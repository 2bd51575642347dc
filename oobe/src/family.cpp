#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/oobe/family.hpp>

#include <fmt/format.h>

#include <optional>
#include <sstream>

namespace azl::oobe
{

namespace
{

// The one table of per-family facts.
const FamilyFacts kRpmFacts{
    .family = Family::rpm,
    .name = "rpm",
    .admin_group = "wheel",
    .ca_anchor_dir = "/etc/pki/ca-trust/source/anchors",
    .ca_anchor_suffix = ".crt",
    .ca_update = {"update-ca-trust", "extract"},
    // p11-kit reads the files of the anchors folder but not its sub-folders: one bundle file.
    .host_anchors = "/etc/pki/ca-trust/source/anchors/azurelinux-host.pem",
    .ca_bundle = "/etc/pki/tls/certs/ca-bundle.crt",
    .package_install = {"tdnf", "install", "-y"},
    .package_refresh = {"tdnf", "makecache"},
    .package_upgrade = {"tdnf", "upgrade", "-y"},
    .package_query = {"rpm", "-q", "--quiet"},
    .package_proxy_file = "/etc/tdnf/tdnf.conf",
    .repo_dir = "/etc/yum.repos.d",
    .locale_file = "/etc/locale.conf",
    .writes_etc_timezone = false,
};

const FamilyFacts kDebianFacts{
    .family = Family::debian,
    .name = "debian",
    .admin_group = "sudo",
    .ca_anchor_dir = "/usr/local/share/ca-certificates",
    .ca_anchor_suffix = ".crt", // update-ca-certificates reads only *.crt there
    .ca_update = {"update-ca-certificates"},
    // update-ca-certificates reads every *.crt below its folder, sub-folders too.
    .host_anchors = "/usr/local/share/ca-certificates/azurelinux-host",
    .ca_bundle = "/etc/ssl/certs/ca-certificates.crt",
    .package_install =
        {"apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "Dpkg::Use-Pty=0"},
    .package_refresh = {"apt-get", "update", "-q"},
    // Configuration files the image changed are kept, as cloud-init's package_upgrade does.
    .package_upgrade =
        {"apt-get",
         "dist-upgrade",
         "-y",
         "-q",
         "-o",
         "Dpkg::Options::=--force-confold",
         "-o",
         "Dpkg::Use-Pty=0"},
    .package_query = {"dpkg-query", "--show", "--showformat=${db:Status-Status}\\n"},
    .package_proxy_file = "/etc/apt/apt.conf.d/80azurelinux-proxy",
    .repo_dir = "/etc/apt/sources.list.d",
    .locale_file = "/etc/default/locale",
    .writes_etc_timezone = true,
};

std::string unquote(std::string_view value)
{
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')
        && value.back() == value.front())
    {
        std::string out;
        for (std::size_t i = 1; i + 1 < value.size(); ++i)
        {
            if (value[i] == '\\' && i + 2 < value.size())
            {
                ++i;
            }
            out.push_back(value[i]);
        }
        return out;
    }
    return std::string(value);
}

std::optional<Family> family_of_id(std::string_view id)
{
    if (id == "azurelinux" || id == "mariner" || id == "fedora" || id == "rhel" || id == "centos"
        || id == "rocky" || id == "almalinux")
    {
        return Family::rpm;
    }
    if (id == "debian" || id == "ubuntu")
    {
        return Family::debian;
    }
    return std::nullopt;
}

} // namespace

OsRelease OsRelease::parse(std::string_view text)
{
    OsRelease os;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line))
    {
        const auto eq = line.find('=');
        if (line.empty() || line.front() == '#' || eq == std::string::npos)
        {
            continue;
        }
        const auto key = line.substr(0, eq);
        auto value = unquote(std::string_view(line).substr(eq + 1));
        if (key == "ID")
        {
            os.id = std::move(value);
        }
        else if (key == "ID_LIKE")
        {
            os.id_like = std::move(value);
        }
        else if (key == "NAME")
        {
            os.name = std::move(value);
        }
        else if (key == "VERSION_ID")
        {
            os.version_id = std::move(value);
        }
        else if (key == "VERSION_CODENAME")
        {
            os.version_codename = std::move(value);
        }
        else if (key == "PRETTY_NAME")
        {
            os.pretty_name = std::move(value);
        }
    }
    return os;
}

OsRelease OsRelease::load(const std::filesystem::path& path)
{
    return parse(read_file(path, 1U << 20U));
}

std::string OsRelease::display_name() const
{
    if (!pretty_name.empty())
    {
        return pretty_name;
    }
    if (!name.empty())
    {
        return version_id.empty() ? name : fmt::format("{} {}", name, version_id);
    }
    return id.empty() ? std::string("Linux") : id;
}

const FamilyFacts& facts_for(Family family)
{
    return family == Family::rpm ? kRpmFacts : kDebianFacts;
}

Family detect_family(const OsRelease& os)
{
    if (auto f = family_of_id(os.id))
    {
        return *f;
    }
    std::istringstream words(os.id_like);
    std::string word;
    while (words >> word)
    {
        if (auto f = family_of_id(word))
        {
            return *f;
        }
    }
    throw UserError(
        fmt::format(
            "/etc/os-release: ID={} (ID_LIKE={}) is neither an Azure Linux/Fedora-like nor a "
            "Debian-like distribution",
            os.id,
            os.id_like),
        "first-run setup supports Azure Linux and, for tests, Debian");
}

} // namespace azl::oobe
