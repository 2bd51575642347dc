#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/ini.hpp>
#include <azl/common/text.hpp>
#include <azl/integration/host_cli.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <limits>

namespace azl::integration
{

namespace fs = std::filesystem;

namespace
{

bool ends_with_ci(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && ascii_iequals(s.substr(s.size() - suffix.size()), suffix);
}

// The CLI's stderr without CRs, "ERROR: " prefixes and trailing blank lines, at most ~2000 bytes.
std::string cli_message(std::string text)
{
    text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size())
    {
        auto eol = text.find('\n', pos);
        if (eol == std::string::npos)
        {
            eol = text.size();
        }
        std::string_view line(text.data() + pos, eol - pos);
        pos = eol + 1;
        if (line.rfind("ERROR: ", 0) == 0)
        {
            line.remove_prefix(7);
        }
        if (line.find_first_not_of(" \t") == std::string_view::npos)
        {
            continue;
        }
        if (!out.empty())
        {
            out += '\n';
        }
        out += line;
    }
    if (out.size() > 2000)
    {
        out.resize(2000);
        out += "…";
    }
    return out;
}

// An `az login …` line az suggests: only characters a command line of az's own can contain.
bool is_safe_cli_argument_line(std::string_view line)
{
    return line.size() <= 512
           && std::all_of(
               line.begin(),
               line.end(),
               [](unsigned char c)
               {
                   return std::isalnum(c) != 0
                          || std::string_view(" :/._-~?=,\"").find(static_cast<char>(c))
                                 != std::string_view::npos;
               });
}

std::int64_t parse_local_time(const std::string& s)
{
    // Azure CLI before 2.54 printed only "expiresOn": "2023-10-31 21:59:10.000000", local time.
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
    if (end == nullptr || (*end != '\0' && *end != '.'))
    {
        throw HostError(
            HostErrorKind::bad_output,
            fmt::format("the Windows Azure CLI printed an unreadable expiry time \"{}\"", s));
    }
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1))
    {
        throw HostError(
            HostErrorKind::bad_output,
            fmt::format("the Windows Azure CLI printed an invalid expiry time \"{}\"", s));
    }
    return static_cast<std::int64_t>(t);
}

std::optional<std::int64_t> epoch_of(const nlohmann::json& v)
{
    // Seconds since 1970 that fit in 64 bits; anything else (a number JSON can carry but no clock
    // reaches) is no expiry time at all.
    if (v.is_number_unsigned())
    {
        const auto n = v.get<std::uint64_t>();
        return n <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                   ? std::optional<std::int64_t>(static_cast<std::int64_t>(n))
                   : std::nullopt;
    }
    if (v.is_number_integer())
    {
        return v.get<std::int64_t>();
    }
    if (v.is_number_float())
    {
        // 2^63 as a double: every finite value below it converts without overflow.
        const double d = v.get<double>();
        constexpr double kLimit = 9223372036854775808.0;
        return std::isfinite(d) && d > -kLimit && d < kLimit
                   ? std::optional<std::int64_t>(static_cast<std::int64_t>(d))
                   : std::nullopt;
    }
    if (v.is_string())
    {
        const auto& s = v.get_ref<const std::string&>();
        std::int64_t n = 0;
        const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty())
        {
            return n;
        }
    }
    return std::nullopt;
}

nlohmann::json parse_json(std::string_view text, std::string_view what)
{
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
    {
        throw HostError(
            HostErrorKind::bad_output,
            fmt::format("the Windows Azure CLI printed something that is not {}", what));
    }
    return j;
}

std::string string_at(const nlohmann::json& j, const char* key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

bool is_safe_cli_argument(std::string_view s)
{
    // No space and none of cmd.exe's metacharacters (& | < > ^ % " ( )): the value can pass
    // through `cmd.exe /c` unquoted and mean the same.
    return !s.empty() && s.size() <= 2048
           && std::all_of(
               s.begin(),
               s.end(),
               [](unsigned char c)
               {
                   return std::isalnum(c) != 0
                          || std::string_view(":/._-~?=,").find(static_cast<char>(c))
                                 != std::string_view::npos;
               });
}

fs::path drive_mount_root(const fs::path& wsl_conf)
{
    std::error_code ec;
    if (fs::exists(wsl_conf, ec))
    {
        const auto ini = IniFile::parse(read_file(wsl_conf, 1U << 20U), wsl_conf.string());
        if (auto root = ini.get("automount", "root"); root && !root->empty())
        {
            fs::path p(*root);
            return p.has_filename() ? p : p.parent_path();
        }
    }
    return "/mnt";
}

HostCommand host_command_for(const fs::path& az)
{
    HostCommand c;
    c.path = az;
    const std::string name = az.filename().string();
    if (ends_with_ci(name, ".cmd") || ends_with_ci(name, ".bat"))
    {
        // wbin\az.cmd only runs "..\python.exe -IBm azure.cli %*": run that directly, no cmd.exe.
        const fs::path python = az.parent_path().parent_path() / "python.exe";
        if (regular_file_exists(python))
        {
            c.prefix = {python.string(), "-IBm", "azure.cli"};
            return c;
        }
        // A batch file needs cmd.exe. Started in its directory and named without a path, it needs
        // no quoting; our arguments are restricted to characters cmd.exe passes on unchanged.
        c.prefix = {"cmd.exe", "/d", "/c", name};
        c.cwd = az.parent_path();
        c.via_cmd = true;
        return c;
    }
    if (ends_with_ci(name, "python.exe"))
    {
        c.prefix = {az.string(), "-IBm", "azure.cli"};
        return c;
    }
    c.prefix = {az.string()};
    return c;
}

std::optional<HostCommand> locate_host_az(const LocateInputs& in)
{
    if (in.configured)
    {
        return regular_file_exists(*in.configured) ? std::optional(host_command_for(*in.configured))
                                                   : std::nullopt;
    }
    const std::string root = in.drive_root.string() + "/";
    std::size_t start = 0;
    while (start <= in.path_env.size())
    {
        const auto end = std::min(in.path_env.find(':', start), in.path_env.size());
        const std::string dir = in.path_env.substr(start, end - start);
        start = end + 1;
        // Only the Windows entries WSL appends: never the guest's own az.
        if (dir.rfind(root, 0) == 0 && regular_file_exists(fs::path(dir) / "az.cmd"))
        {
            return host_command_for(fs::path(dir) / "az.cmd");
        }
    }
    std::vector<fs::path> drives;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(in.drive_root, ec))
    {
        const auto n = entry.path().filename().string();
        if (n.size() == 1 && std::isalpha(static_cast<unsigned char>(n[0])) != 0)
        {
            drives.push_back(entry.path());
        }
    }
    std::sort(drives.begin(), drives.end());
    for (const auto& drive : drives)
    {
        for (const char* program_files : {"Program Files", "Program Files (x86)"})
        {
            const fs::path az = drive / program_files / "Microsoft SDKs/Azure/CLI2/wbin/az.cmd";
            if (regular_file_exists(az))
            {
                return host_command_for(az);
            }
        }
    }
    return std::nullopt;
}

AccessToken parse_token_output(std::string_view text)
{
    const auto j = parse_json(text, "a token (JSON object expected)");
    AccessToken t;
    t.access_token = string_at(j, "accessToken");
    if (t.access_token.empty())
    {
        throw HostError(HostErrorKind::bad_output, "the Windows Azure CLI printed no accessToken");
    }
    if (const auto it = j.find("expires_on"); it != j.end())
    {
        const auto epoch = epoch_of(*it);
        if (!epoch)
        {
            throw HostError(
                HostErrorKind::bad_output,
                "the Windows Azure CLI printed an unreadable expires_on");
        }
        t.expires_on = *epoch;
    }
    else if (const auto old = string_at(j, "expiresOn"); !old.empty())
    {
        t.expires_on = parse_local_time(old);
    }
    else
    {
        throw HostError(HostErrorKind::bad_output, "the Windows Azure CLI printed no expiry time");
    }
    if (auto type = string_at(j, "tokenType"); !type.empty())
    {
        t.token_type = type;
    }
    t.tenant = string_at(j, "tenant");
    t.subscription = string_at(j, "subscription");
    return t;
}

AccountInfo parse_account_show(std::string_view text)
{
    const auto j = parse_json(text, "an account (JSON object expected)");
    AccountInfo a;
    if (const auto user = j.find("user"); user != j.end() && user->is_object())
    {
        a.user = string_at(*user, "name");
    }
    a.tenant = string_at(j, "tenantId");
    a.subscription = string_at(j, "id");
    a.subscription_name = string_at(j, "name");
    return a;
}

namespace
{

using K = HostErrorKind;

// az's message shapes: an Entra ID error is "AADSTSnnnnn: description Trace ID: … Timestamp: …"
// followed by "Interactive authentication is needed. Please run:" and the `az login …` line to run
// (azure-cli-core auth/util.py, aad_error_handler); not signed in is "Please run 'az login' to
// setup account." (azure-cli-core _profile.py); a default subscription gone is "Subscription '…'
// not found. Check the spelling and casing and try again." or "The subscription of '…' doesn't
// exist in cloud '…'." Codes: learn.microsoft.com/entra/identity-platform/reference-error-codes.
constexpr std::array<SignInProblem, 25> kSignInProblems = {{
    {"AADSTS50076",
     "",
     K::interaction_required,
     "multi-factor authentication is required (AADSTS50076)",
     "run `{login}` in Windows and complete the MFA prompt, then try again"},
    {"AADSTS50079",
     "",
     K::interaction_required,
     "the account must register for multi-factor authentication (AADSTS50079)",
     "run `{login}` in Windows and complete the registration, then try again"},
    {"AADSTS50072",
     "",
     K::interaction_required,
     "the account must enroll in multi-factor authentication (AADSTS50072)",
     "run `{login}` in Windows and complete the enrollment, then try again"},
    {"AADSTS50158",
     "",
     K::interaction_required,
     "an external security challenge must be answered (AADSTS50158)",
     "run `{login}` in Windows and answer it, then try again"},
    {"AADSTS530003",
     "",
     K::interaction_required,
     "Conditional Access requires a managed device (AADSTS530003)",
     "run `{login}` in Windows on a device your organization manages"},
    {"AADSTS53000",
     "",
     K::interaction_required,
     "Conditional Access requires a compliant device (AADSTS53000)",
     "run `{login}` in Windows on a device compliant with your organization's policy (check "
     "Company Portal), or ask your administrator"},
    {"AADSTS53003",
     "",
     K::interaction_required,
     "a Conditional Access policy blocked the sign-in (AADSTS53003)",
     "run `{login}` in Windows from a device and network the policy allows, or ask your "
     "administrator which policy applies"},
    {"AADSTS50097",
     "",
     K::interaction_required,
     "device authentication is required (AADSTS50097)",
     "run `{login}` in Windows on a device registered with your organization (Settings > "
     "Accounts > Access work or school)"},
    {"AADSTS65001",
     "",
     K::interaction_required,
     "the resource needs consent (AADSTS65001)",
     "run `{login}` in Windows and consent, or ask your administrator to"},
    {"AADSTS700082",
     "",
     K::interaction_required,
     "the Windows Azure CLI's sign-in expired after a long inactivity (AADSTS700082)",
     "run `{login}` in Windows, then try again"},
    {"AADSTS70043",
     "",
     K::interaction_required,
     "the sign-in expired under your organization's sign-in frequency policy (AADSTS70043)",
     "run `{login}` in Windows, then try again"},
    {"AADSTS50173",
     "",
     K::interaction_required,
     "the sign-in was revoked, after a password change or a sign-out everywhere (AADSTS50173)",
     "run `{login}` in Windows, then try again"},
    {"AADSTS90002",
     "",
     K::tenant_mismatch,
     "the tenant was not found (AADSTS90002)",
     "check the tenant ID, or run `az login --tenant {tenant}` in Windows"},
    {"AADSTS50020",
     "",
     K::tenant_mismatch,
     "the signed-in account is not a member of the tenant (AADSTS50020)",
     "run `az login --tenant {tenant}` in Windows with an account of that tenant"},
    {"AADSTS50034",
     "",
     K::tenant_mismatch,
     "the account does not exist in the tenant (AADSTS50034)",
     "run `az login --tenant {tenant}` in Windows with an account of that tenant"},
    {"AADSTS90072",
     "",
     K::tenant_mismatch,
     "the account is not in the tenant (AADSTS90072)",
     "run `az login --tenant {tenant}` in Windows with an account of that tenant"},
    {"not found",
     "{tenant}",
     K::tenant_mismatch,
     "the Windows Azure CLI is not signed in to the tenant",
     "run `az login --tenant {tenant}` in Windows"},
    {"does not exist",
     "{tenant}",
     K::tenant_mismatch,
     "the Windows Azure CLI is not signed in to the tenant",
     "run `az login --tenant {tenant}` in Windows"},
    {"Check the spelling and casing",
     "Subscription",
     K::subscription_missing,
     "the Windows Azure CLI's default subscription was not found",
     "run `az account list` in Windows and select one with `az account set --subscription ID`"},
    {"doesn't exist in cloud",
     "subscription",
     K::subscription_missing,
     "the Windows Azure CLI's default subscription does not exist (any more)",
     "run `az account list` in Windows and select one with `az account set --subscription ID`, "
     "or sign in again with `az login`"},
    {"Interactive authentication is needed",
     "",
     K::interaction_required,
     "the Windows Azure CLI needs you to sign in interactively",
     "run `{login}` in Windows, then try again"},
    {"interaction_required",
     "",
     K::interaction_required,
     "the Windows Azure CLI needs you to sign in interactively",
     "run `{login}` in Windows, then try again"},
    {"Please run 'az login'",
     "",
     K::not_signed_in,
     "the Windows Azure CLI is not signed in",
     "run `az login` in Windows, then try again"},
    {"No subscription found",
     "",
     K::not_signed_in,
     "the Windows Azure CLI is not signed in",
     "run `az login` in Windows, then try again"},
    {"no active accounts",
     "",
     K::not_signed_in,
     "the Windows Azure CLI is not signed in",
     "run `az login` in Windows, then try again"},
}};

// The `az login …` line az printed after "Please run:", else a plain `az login` (for the tenant).
std::string login_command(const std::string& message, const TokenRequest& request)
{
    std::size_t pos = 0;
    while (pos < message.size())
    {
        const auto eol = std::min(message.find('\n', pos), message.size());
        std::string line = message.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.rfind("az login", 0) == 0 && is_safe_cli_argument_line(line))
        {
            return line;
        }
    }
    return request.tenant ? "az login --tenant " + *request.tenant : std::string("az login");
}

std::string replace_all(std::string text, std::string_view from, std::string_view to)
{
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    {
        text.replace(at, from.size(), to);
    }
    return text;
}

} // namespace

std::span<const SignInProblem> sign_in_problems()
{
    return kSignInProblems;
}

HostError classify_failure(const ProcessResult& result, const TokenRequest& request)
{
    if (result.timed_out)
    {
        return {
            HostErrorKind::timeout,
            "the Windows Azure CLI did not answer in time (is it waiting for a sign-in "
            "window?); try `az account get-access-token` in Windows"};
    }
    const std::string message = cli_message(result.err.empty() ? result.out : result.err);
    const std::string tenant = request.tenant.value_or("TENANT_ID");
    for (const auto& p : kSignInProblems)
    {
        const bool also =
            p.also.empty()
            || (p.also == "{tenant}" ? request.tenant && !request.tenant->empty()
                                           && message.find(*request.tenant) != std::string::npos
                                     : message.find(p.also) != std::string::npos);
        if (message.find(p.marker) == std::string::npos || !also)
        {
            continue;
        }
        const std::string remedy = replace_all(
            replace_all(std::string(p.remedy), "{login}", login_command(message, request)),
            "{tenant}",
            tenant);
        const std::string what = request.tenant && p.kind == K::tenant_mismatch
                                     ? fmt::format("{} ({})", p.what, *request.tenant)
                                     : std::string(p.what);
        if (p.kind == K::not_signed_in)
        {
            return {p.kind, fmt::format("{}: {}", what, remedy)};
        }
        return {p.kind, fmt::format("{}: {} (it said: {})", what, remedy, message)};
    }
    return {
        HostErrorKind::failed,
        fmt::format(
            "the Windows Azure CLI failed (exit {}): {}",
            result.exit_code,
            message.empty() ? std::string("no message") : message)};
}

HostCli::HostCli(HostCommand command, std::chrono::milliseconds timeout)
    : m_command(std::move(command))
    , m_timeout(timeout)
{
}

ProcessResult HostCli::run(const std::vector<std::string>& args) const
{
    std::vector<std::string> argv = m_command.prefix;
    for (const auto& a : args)
    {
        if (m_command.via_cmd && !is_safe_cli_argument(a))
        {
            throw HostError(
                HostErrorKind::failed,
                fmt::format("\"{}\" cannot be passed through cmd.exe safely", a));
        }
        argv.push_back(a);
    }
    ProcessOptions options;
    options.timeout = m_timeout;
    options.cwd = m_command.cwd;
    // The bridge's own secrets are not the host CLI's business (and must not make it use them).
    options.unset_env = {
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "MSI_SECRET",
        "ARM_MSI_ENDPOINT",
        "AZD_AUTH_ENDPOINT",
        "AZD_AUTH_KEY"};
    try
    {
        return run_process(argv, options);
    }
    catch (const UserError& e)
    {
        const std::string what = e.what();
        if (what.find("Exec format error") != std::string::npos)
        {
            throw HostError(
                HostErrorKind::interop_disabled,
                fmt::format(
                    "cannot start Windows programs from this distribution ({}): WSL interop is "
                    "off; set "
                    "[interop] enabled=true in /etc/wsl.conf and restart the distribution",
                    m_command.path.string()));
        }
        throw HostError(
            HostErrorKind::not_found,
            fmt::format(
                "the Windows Azure CLI could not be started ({}); install it in Windows or set "
                "hostAz in "
                "/etc/azurelinux/bridge.conf",
                what));
    }
}

AccessToken HostCli::get_token(const TokenRequest& request) const
{
    std::vector<std::string> args = {
        "account",
        "get-access-token",
        "--output",
        "json",
        request.kind == TargetKind::resource ? "--resource" : "--scope",
        request.target};
    if (request.tenant)
    {
        args.insert(args.end(), {"--tenant", *request.tenant});
    }
    const auto result = run(args);
    if (!result.ok())
    {
        throw classify_failure(result, request);
    }
    return parse_token_output(result.out);
}

AccountInfo HostCli::account_show() const
{
    return parse_account_show(run_json({"account", "show"}));
}

std::string HostCli::run_json(const std::vector<std::string>& args) const
{
    std::vector<std::string> all = args;
    all.insert(all.end(), {"--output", "json"});
    auto result = run(all);
    if (!result.ok())
    {
        throw classify_failure(result, {});
    }
    return std::move(result.out);
}

std::optional<HostCommand> find_host_az(const BridgeConfig& config)
{
    const char* path = std::getenv("PATH");
    return locate_host_az({config.host_az, path != nullptr ? path : "", drive_mount_root()});
}

HostCli make_host_cli(const BridgeConfig& config)
{
    auto command = find_host_az(config);
    if (!command)
    {
        throw HostError(
            HostErrorKind::not_found,
            config.host_az
                ? fmt::format(
                    "the Windows Azure CLI was not found at {} (hostAz in {})",
                    config.host_az->string(),
                    config.sources.empty() ? std::string("bridge.conf")
                                           : config.sources.back().string())
                : std::string(
                    "the Windows Azure CLI was not found (no az.cmd in the Windows PATH or in "
                    "Program Files\\Microsoft SDKs\\Azure\\CLI2): install it in Windows, or set "
                    "hostAz in /etc/azurelinux/bridge.conf"));
    }
    return {*command, std::chrono::duration_cast<std::chrono::milliseconds>(config.host_timeout)};
}

AccessToken fetch_host_token(const BridgeConfig& config, const TokenRequest& request)
{
    return make_host_cli(config).get_token(request);
}

} // namespace azl::integration
