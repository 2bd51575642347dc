// wslsim-relay.exe: the process wslapi.dll's WslLaunch and WslLaunchInteractive start for a
// launch: it relays its standard handles to the Linux program and exits with its status. Its one
// argument is the launch request as hex-encoded JSON ({"name", "command"?, "cwd"?}).

#include "sim.hpp"

#include <shellapi.h>

#include <string>

namespace
{

// The relay's own failure, on its standard error; exit code -1 as wsl.exe's own failures.
int fail(const std::string& what)
{
    const std::string message = "wslsim-relay: " + what + "\n";
    DWORD n = 0;
    ::WriteFile(
        ::GetStdHandle(STD_ERROR_HANDLE),
        message.data(),
        static_cast<DWORD>(message.size()),
        &n,
        nullptr);
    return -1;
}

} // namespace

int main()
{
    using namespace wslsim;
    int argc = 0;
    LPWSTR* argv = ::CommandLineToArgvW(::GetCommandLineW(), &argc);
    if (argv == nullptr || argc != 2)
    {
        return -1;
    }
    std::string text;
    const std::wstring hex = argv[1];
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    {
        text += static_cast<char>(std::stoi(narrow(hex.substr(i, 2)), nullptr, 16));
    }
    try
    {
        nlohmann::json request = nlohmann::json::parse(text);
        Registry registry;
        const Distro distro = require(registry, widen(request.at("name").get<std::string>()));
        request.erase("name");
        HostStreams streams{
            .in = ::GetStdHandle(STD_INPUT_HANDLE),
            .out = ::GetStdHandle(STD_OUTPUT_HANDLE),
            .err = ::GetStdHandle(STD_ERROR_HANDLE),
            .console = false,
        };
        DWORD mode = 0;
        streams.console = ::GetConsoleMode(streams.in, &mode) != 0;
        return launch(registry, distro, std::move(request), streams);
    }
    catch (const std::exception& e)
    {
        return fail(e.what());
    }
    catch (const WslError& e)
    {
        return fail(narrow(error_message(e.hr)));
    }
}
