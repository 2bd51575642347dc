#include <azl/common/error.hpp>
#include <azl/common/text.hpp>
#include <azl/launcher/shell_quote.hpp>
#include <azl/launcher/wsl_cli.hpp>

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <utility>

namespace azl::launcher::wsl
{

namespace fs = std::filesystem;

std::vector<std::string> install_from_file_args(
    const fs::path& image, const std::string& name, const std::optional<fs::path>& location)
{
    std::vector<std::string> args = {
        "--install", "--from-file", path_to_utf8(image), "--name", name};
    if (location)
    {
        args.insert(args.end(), {"--location", path_to_utf8(*location)});
    }
    args.emplace_back("--no-launch");
    return args;
}

std::vector<std::string> import_args(
    const std::string& name, const fs::path& location, const fs::path& file, ArchiveFormat format)
{
    std::vector<std::string> args = {"--import", name, path_to_utf8(location), path_to_utf8(file)};
    if (format == ArchiveFormat::vhdx)
    {
        args.emplace_back("--vhd");
    }
    return args;
}

std::vector<std::string>
export_args(const std::string& name, const fs::path& file, ArchiveFormat format)
{
    // wsl.exe calls the VHDX format "vhd".
    const std::string format_name =
        format == ArchiveFormat::vhdx ? "vhd" : std::string(archive_format_name(format));
    return {"--export", name, path_to_utf8(file), "--format", format_name};
}

std::vector<std::string> terminate_args(const std::string& name)
{
    return {"--terminate", name};
}

std::vector<std::string> set_default_user_args(const std::string& name, const std::string& user)
{
    return {"--manage", name, "--set-default-user", user};
}

std::vector<std::string> set_version_args(const std::string& name, unsigned version)
{
    return {"--set-version", name, std::to_string(version)};
}

std::vector<std::string> list_verbose_args()
{
    return {"--list", "--verbose"};
}

std::vector<std::string> version_args()
{
    return {"--version"};
}

std::vector<std::string> exec_args(const std::string& name, const LaunchSpec& spec)
{
    std::vector<std::string> args = {"--distribution", name};
    if (spec.user)
    {
        args.insert(args.end(), {"--user", *spec.user});
    }
    // Without --cd wsl.exe starts in the translated Windows directory; our default is the home.
    args.insert(args.end(), {"--cd", spec.cwd.value_or("~")});
    if (!spec.argv.empty())
    {
        args.emplace_back("--exec");
        args.insert(args.end(), spec.argv.begin(), spec.argv.end());
    }
    return args;
}

std::string launch_command(const std::vector<std::string>& argv)
{
    return shell_join(argv);
}

std::string wslpath_command(const fs::path& host_file)
{
    return shell_join({"wslpath", "-a", "-u", path_to_utf8(host_file)});
}

namespace
{

void append_utf8(std::string& out, char32_t c)
{
    if (c < 0x80)
    {
        out += static_cast<char>(c);
    }
    else if (c < 0x800)
    {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
    else if (c < 0x10000)
    {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
    else
    {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

std::string utf16le_to_utf8(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size() / 2);
    const auto unit = [&bytes](std::size_t i)
    {
        return static_cast<char16_t>(
            static_cast<unsigned char>(bytes[i])
            | (static_cast<unsigned char>(bytes[i + 1]) << 8U));
    };
    constexpr char32_t kReplacement = 0xFFFD;
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2)
    {
        const char16_t u = unit(i);
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < bytes.size())
        {
            const char16_t low = unit(i + 2);
            if (low >= 0xDC00 && low <= 0xDFFF)
            {
                append_utf8(out, 0x10000 + ((char32_t(u) - 0xD800) << 10U) + (low - 0xDC00));
                i += 2;
                continue;
            }
        }
        append_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? kReplacement : char32_t(u));
    }
    return out;
}

std::vector<std::string_view> lines(std::string_view text)
{
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos < text.size())
    {
        const auto nl = text.find('\n', pos);
        const auto end = nl == std::string_view::npos ? text.size() : nl;
        const std::string_view line = trim(text.substr(pos, end - pos));
        if (!line.empty())
        {
            out.push_back(line);
        }
        pos = end + 1;
    }
    return out;
}

std::vector<std::string_view> words(std::string_view line)
{
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos < line.size())
    {
        const auto start = line.find_first_not_of(" \t", pos);
        if (start == std::string_view::npos)
        {
            break;
        }
        const auto end = std::min(line.find_first_of(" \t", start), line.size());
        out.push_back(line.substr(start, end - start));
        pos = end;
    }
    return out;
}

std::optional<unsigned> to_unsigned(std::string_view s)
{
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || ptr != s.data() + s.size() || s.empty())
    {
        return std::nullopt;
    }
    return value;
}

std::optional<DistroState> state_from_text(std::string_view text)
{
    static constexpr std::array<std::pair<std::string_view, DistroState>, 4> kStates = {{
        {"Running", DistroState::running},
        {"Stopped", DistroState::stopped},
        {"Installing", DistroState::installing},
        {"Uninstalling", DistroState::uninstalling},
    }};
    for (const auto& [word, state] : kStates)
    {
        if (text == word)
        {
            return state;
        }
    }
    return std::nullopt;
}

bool is_version(std::string_view word)
{
    return !word.empty() && word.find_first_not_of("0123456789.") == std::string_view::npos
           && word.find('.') != std::string_view::npos && word.front() != '.';
}

} // namespace

std::string decode_wsl_output(std::string_view bytes)
{
    if (bytes.starts_with("\xFF\xFE"))
    {
        return utf16le_to_utf8(bytes.substr(2));
    }
    // UTF-8 never holds a NUL byte; UTF-16 has one in every ASCII character (blanks, CR LF).
    if (bytes.find('\0') != std::string_view::npos)
    {
        return utf16le_to_utf8(bytes);
    }
    if (bytes.starts_with("\xEF\xBB\xBF"))
    {
        bytes.remove_prefix(3);
    }
    return std::string(bytes);
}

std::vector<ListedDistro> parse_list_verbose(std::string_view text)
{
    const auto all = lines(text);
    std::vector<ListedDistro> out;
    for (std::size_t i = 1; i < all.size(); ++i) // all[0] is the (localised) header row
    {
        std::string_view line = all[i];
        ListedDistro row;
        if (line.front() == '*')
        {
            row.is_default = true;
            line.remove_prefix(1);
        }
        const auto w = words(line);
        const auto version = w.size() >= 3 ? to_unsigned(w.back()) : std::nullopt;
        if (!version)
        {
            throw SystemError(
                "reading the output of `wsl --list --verbose`",
                fmt::format("unexpected line \"{}\"", all[i]));
        }
        row.name = std::string(w.front());
        // The state is every word between name and version: localised states can have blanks.
        const auto first = w[1].data() - line.data();
        const auto last = w[w.size() - 2].data() + w[w.size() - 2].size() - line.data();
        row.state_text = std::string(line.substr(first, last - first));
        row.state = state_from_text(row.state_text);
        row.version = *version;
        out.push_back(std::move(row));
    }
    return out;
}

std::optional<std::string> parse_wsl_version(std::string_view text)
{
    const auto all = lines(text);
    if (all.empty())
    {
        return std::nullopt;
    }
    const auto w = words(all.front());
    for (auto it = w.rbegin(); it != w.rend(); ++it)
    {
        if (is_version(*it))
        {
            return std::string(*it);
        }
    }
    return std::nullopt;
}

bool version_at_least(std::string_view version, std::string_view minimum)
{
    const auto parts = [](std::string_view v)
    {
        std::vector<unsigned> out;
        std::size_t pos = 0;
        while (pos <= v.size())
        {
            const auto dot = std::min(v.find('.', pos), v.size());
            out.push_back(to_unsigned(v.substr(pos, dot - pos)).value_or(0));
            pos = dot + 1;
        }
        return out;
    };
    auto a = parts(version);
    auto b = parts(minimum);
    a.resize(std::max(a.size(), b.size()), 0);
    b.resize(a.size(), 0);
    return a >= b;
}

std::optional<std::string> error_code_token(std::string_view text)
{
    // "Error code: Wsl/Service/RegisterDistro/ERROR_ALREADY_EXISTS": the label is localised, the
    // code path is not. Take the last word that starts with "Wsl/".
    std::optional<std::string> token;
    for (const auto line : lines(text))
    {
        for (const auto word : words(line))
        {
            if (word.starts_with("Wsl/"))
            {
                token = std::string(word.substr(word.rfind('/') + 1));
            }
        }
    }
    return token;
}

std::optional<std::uint32_t> hresult_from_token(std::string_view token)
{
    static constexpr std::array<std::pair<std::string_view, std::uint32_t>, 15> kNames = {{
        {"ERROR_FILE_NOT_FOUND", kFileNotFound},
        {"ERROR_PATH_NOT_FOUND", kPathNotFound},
        {"E_ACCESSDENIED", kAccessDenied},
        {"E_INVALIDARG", kInvalidArg},
        {"ERROR_ALREADY_EXISTS", kAlreadyExists},
        {"ERROR_LINUX_SUBSYSTEM_NOT_PRESENT", kSubsystemNotPresent},
        {"WSL_E_DISTRO_NOT_FOUND", kDistroNotFound},
        {"WSL_E_USER_NOT_FOUND", kUserNotFound},
        {"WSL_E_EXPORT_FAILED", kExportFailed},
        {"WSL_E_IMPORT_FAILED", kImportFailed},
        {"WSL_E_DISTRO_NOT_STOPPED", kDistroNotStopped},
        {"WSL_E_WSL_OPTIONAL_COMPONENT_REQUIRED", kOptionalComponentRequired},
        {"WSL_E_NOT_A_LINUX_DISTRO", kNotALinuxDistro},
        {"WSL_E_VIRTUAL_MACHINE_PLATFORM_REQUIRED", kVmPlatformRequired},
        {"HCS_E_HYPERV_NOT_INSTALLED", kHyperVNotInstalled},
    }};
    for (const auto& [name, hr] : kNames)
    {
        if (token == name)
        {
            return hr;
        }
    }
    if (token.size() == 10 && (token.starts_with("0x") || token.starts_with("0X")))
    {
        std::uint32_t hr = 0;
        const auto [ptr, ec] = std::from_chars(token.data() + 2, token.data() + 10, hr, 16);
        if (ec == std::errc() && ptr == token.data() + 10)
        {
            return hr;
        }
    }
    return std::nullopt;
}

UserError wsl_missing(std::string_view why)
{
    return UserError(
        fmt::format("WSL cannot be used: {}", why),
        "install it with `wsl --install` (or \"Windows Subsystem for Linux\" from the Microsoft "
        "Store), restart Windows, then run azurelinux again");
}

} // namespace azl::launcher::wsl
