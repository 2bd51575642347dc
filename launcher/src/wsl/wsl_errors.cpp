#include <azl/common/error.hpp>
#include <azl/launcher/wsl_cli.hpp>

#include <fmt/format.h>

#include <vector>

namespace azl::launcher::wsl
{

namespace
{

std::string subject(const Operation& op)
{
    return fmt::format("{} {}", op.doing, op.name);
}

// wsl.exe's own sentence for what went wrong: the line before its "Error code:" line (progress
// lines such as "Import in progress, …" come first), or without one the first line (an older
// wsl.exe's usage text starts with the option it did not know).
std::string message_line(std::string_view text)
{
    std::vector<std::string_view> lines;
    std::size_t pos = 0;
    while (pos < text.size())
    {
        const auto nl = std::min(text.find('\n', pos), text.size());
        std::string_view line = text.substr(pos, nl - pos);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        {
            line.remove_suffix(1);
        }
        while (!line.empty() && line.front() == ' ')
        {
            line.remove_prefix(1);
        }
        if (!line.empty())
        {
            lines.push_back(line);
        }
        pos = nl + 1;
    }
    for (std::size_t i = 1; i < lines.size(); ++i)
    {
        if (lines[i].find(" Wsl/") != std::string_view::npos)
        {
            return std::string(lines[i - 1]);
        }
    }
    return lines.empty() ? std::string() : std::string(lines.front());
}

} // namespace

void throw_hresult(std::uint32_t hr, const Operation& op, std::string_view system_text)
{
    const std::string what = op.detail.empty() ? subject(op) : op.detail;
    switch (hr)
    {
    case kSubsystemNotPresent:
    case kOptionalComponentRequired:
        throw wsl_missing("the Windows Subsystem for Linux is not enabled");
    case kVmPlatformRequired:
    case kHyperVNotInstalled:
        throw UserError(
            fmt::format("{}: WSL 2 cannot start a virtual machine on this computer", subject(op)),
            "enable \"Virtual Machine Platform\" (`wsl --install --no-distribution`) and "
            "virtualization in the firmware settings, then restart Windows");
    case kDistroNotFound:
        throw UserError(
            fmt::format("no distribution named {} is registered", op.name),
            fmt::format(
                "see `azurelinux list`; install it with `azurelinux install --name {}`", op.name));
    case kAlreadyExists:
        throw UserError(
            fmt::format("a distribution named {} already exists", op.name),
            fmt::format(
                "choose another --name, or remove it first with `azurelinux uninstall --name {}`",
                op.name));
    case kFileNotFound:
    case kPathNotFound:
        throw UserError(
            fmt::format("{}: {} not found", subject(op), what), "check the path and try again");
    case kAccessDenied:
        throw UserError(
            fmt::format("{}: access denied to {}", subject(op), what),
            "check that your Windows user can read and write it; do not run azurelinux as "
            "another user than the one who owns the distribution");
    case kUserNotFound:
        throw UserError(
            fmt::format("{}: no such user in {}", subject(op), op.name),
            "create the user first (azurelinux run --user root -- useradd …) or pick another");
    case kDistroNotStopped:
        throw UserError(
            fmt::format("{}: {} is running", subject(op), op.name),
            fmt::format("stop it with `wsl --terminate {}` and try again", op.name));
    case kNotALinuxDistro:
        throw UserError(
            fmt::format(
                "{}: {} is not a Linux root file system (no /etc, no /bin/sh)", subject(op), what),
            "make the image with `azurelinux image build` and check it with `azurelinux image "
            "check`");
    case kInvalidArg:
        throw UserError(
            fmt::format("{}: WSL rejected the request: {}", subject(op), system_text),
            "names may only hold letters, digits, '.', '_' and '-'");
    default:
        throw SystemError(
            subject(op),
            fmt::format("{} (0x{:08x})", system_text.empty() ? "WSL failed" : system_text, hr));
    }
}

void throw_wsl_exe_failure(int exit_code, std::string_view output, const Operation& op)
{
    const std::string message = message_line(output);
    if (const auto token = error_code_token(output))
    {
        if (const auto hr = hresult_from_token(*token))
        {
            throw_hresult(*hr, op, message);
        }
        throw SystemError(subject(op), fmt::format("{} (Error code: {})", message, *token));
    }
    if (message.empty())
    {
        throw SystemError(subject(op), fmt::format("wsl.exe exited with code {}", exit_code));
    }
    // No error code: usually an older wsl.exe that does not know the option and printed its usage.
    throw UserError(
        fmt::format("{}: wsl.exe failed (exit code {}): {}", subject(op), exit_code, message),
        "update WSL with `wsl --update` and try again");
}

} // namespace azl::launcher::wsl
