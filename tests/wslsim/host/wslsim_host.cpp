// wslsim-host: the Linux half of the WSL simulator. The Windows half (wsl.exe and wslapi.dll under
// Wine) keeps WSL's registry and prints WSL's messages; everything that happens inside a
// distribution is done here, for real, by the project's Linux launcher in its bubblewrap sandbox:
// importing a root file system, running a program with its streams relayed (on a pseudo-terminal
// when the Windows side has a console, as WSL gives a console launch a tty), first-run setup,
// exporting, stopping and removing. Each distribution of the simulator is the sandbox distribution
// named "wslsim-<GUID>".
//
//   wslsim-host --azurelinux PATH --endpoint-file FILE
//
// Listens on 127.0.0.1 (a free port), writes {"port": N, "token": "..."} to FILE (0600) and serves
// until killed. Requests without the token are refused. Every request is appended to
// $WSLSIM_HOST_LOG when set.

#include "../protocol.hpp"

#include <azl/common/ini.hpp>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace
{

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Set once by main before the first request; read-only afterwards.
// NOLINTBEGIN(cppcoreguidelines-avoid-non-const-global-variables): see above
std::string g_azurelinux; // the Linux launcher that does the guest work
std::string g_token;

// NOLINTEND(cppcoreguidelines-avoid-non-const-global-variables)

// --- sockets ---------------------------------------------------------------------------------

// Sends or receives exactly `size` bytes (`io`: ::send or ::recv); false when the peer is gone.
template <class Data, class Io>
bool transfer(int fd, Data* data, std::size_t size, Io io)
{
    while (size > 0)
    {
        const ssize_t n = io(fd, data, size);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool write_all(int fd, const char* data, std::size_t size)
{
    return transfer(
        fd,
        data,
        size,
        [](int f, const char* d, std::size_t n) { return ::send(f, d, n, MSG_NOSIGNAL); });
}

bool send_frame(int fd, wslsim::Frame type, std::string_view payload)
{
    const auto header = wslsim::frame_header(type, static_cast<std::uint32_t>(payload.size()));
    return write_all(fd, header.data(), header.size())
           && write_all(fd, payload.data(), payload.size());
}

bool read_exact(int fd, char* data, std::size_t size)
{
    return transfer(
        fd, data, size, [](int f, char* d, std::size_t n) { return ::recv(f, d, n, 0); });
}

std::optional<std::string> read_line(int fd)
{
    std::string line;
    char c = 0;
    while (line.size() < wslsim::kMaxHeader)
    {
        if (!read_exact(fd, &c, 1))
        {
            return std::nullopt;
        }
        if (c == '\n')
        {
            return line;
        }
        line += c;
    }
    return std::nullopt;
}

// Reads client frames as they arrive: a buffer, since poll() says only that bytes are there.
class FrameReader
{
public:
    explicit FrameReader(int fd)
        : m_fd(fd)
    {
    }

    // Reads what is available; false when the client closed the connection.
    bool fill()
    {
        std::array<char, 65536> buf{};
        const ssize_t n = ::recv(m_fd, buf.data(), buf.size(), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
        {
            return true;
        }
        if (n <= 0)
        {
            return false;
        }
        m_buffer.append(buf.data(), static_cast<std::size_t>(n));
        return true;
    }

    // The next whole frame, if one is buffered.
    std::optional<std::pair<wslsim::Frame, std::string>> next()
    {
        if (m_buffer.size() < 5)
        {
            return std::nullopt;
        }
        std::array<char, 5> header{};
        std::copy_n(m_buffer.begin(), 5, header.begin());
        const std::uint32_t length = wslsim::frame_length(header);
        if (length > wslsim::kMaxFrame)
        {
            throw std::runtime_error("oversized frame from the client");
        }
        if (m_buffer.size() < 5 + length)
        {
            return std::nullopt;
        }
        std::pair<wslsim::Frame, std::string> out{
            static_cast<wslsim::Frame>(header[0]), m_buffer.substr(5, length)};
        m_buffer.erase(0, 5 + length);
        return out;
    }

private:
    int m_fd;
    std::string m_buffer;
};

// --- the guest side ---------------------------------------------------------------------------

std::string sandbox_name(const Json& request)
{
    std::string id = request.at("id").get<std::string>();
    std::string out = "wslsim-";
    for (const char c : id)
    {
        if (std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '-')
        {
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return out;
}

fs::path rootfs_of(const std::string& name)
{
    const char* data = std::getenv("XDG_DATA_HOME");
    return fs::path(data != nullptr ? data : "") / "azurelinux" / "distros" / name / "rootfs";
}

std::optional<std::string> read_text(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
    {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A key of an INI file in the guest (the last occurrence, as WSL reads it); nullopt when absent or
// unreadable.
std::optional<std::string>
guest_ini(const std::string& name, const char* file, std::string_view section, std::string_view key)
{
    const auto text = read_text(rootfs_of(name) / file);
    if (!text)
    {
        return std::nullopt;
    }
    try
    {
        return azl::IniFile::parse(*text, file).get(section, key);
    }
    catch (const std::exception&)
    {
        return std::nullopt;
    }
}

std::optional<std::string> os_release(const std::string& name, std::string_view key)
{
    const auto text = read_text(rootfs_of(name) / "etc/os-release");
    if (!text)
    {
        return std::nullopt;
    }
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);)
    {
        if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == '=')
        {
            std::string value = line.substr(key.size() + 1);
            if (value.size() >= 2 && (value.front() == '"' || value.front() == '\''))
            {
                value = value.substr(1, value.size() - 2);
            }
            return value;
        }
    }
    return std::nullopt;
}

// A child process of the relay: the Linux launcher with stdio on pipes, or on a pseudo-terminal.
struct Child
{
    pid_t pid = -1;
    int in = -1;  // its stdin (or the terminal's master side)
    int out = -1; // its stdout (or the master side again)
    int err = -1; // its stderr (-1 on a terminal: one stream)
};

Child spawn(
    const std::vector<std::string>& argv, bool tty, unsigned short rows, unsigned short cols)
{
    std::vector<std::string> owned = argv; // execv takes char*, not const char*
    std::vector<char*> args;
    args.reserve(owned.size() + 1);
    for (auto& a : owned)
    {
        args.push_back(a.data());
    }
    args.push_back(nullptr);

    Child child;
    if (tty)
    {
        winsize size{};
        size.ws_row = rows != 0 ? rows : 24;
        size.ws_col = cols != 0 ? cols : 80;
        int master = -1;
        child.pid = ::forkpty(&master, nullptr, nullptr, &size);
        if (child.pid < 0)
        {
            throw std::runtime_error(std::string("forkpty: ") + std::strerror(errno));
        }
        if (child.pid == 0)
        {
            ::setenv("TERM", "xterm-256color", 1);
            ::execv(args[0], args.data());
            std::perror("wslsim-host: exec");
            ::_exit(127);
        }
        child.in = master;
        child.out = master;
        return child;
    }
    std::array<int, 2> in{};
    std::array<int, 2> out{};
    std::array<int, 2> err{};
    if (::pipe2(in.data(), O_CLOEXEC) != 0 || ::pipe2(out.data(), O_CLOEXEC) != 0
        || ::pipe2(err.data(), O_CLOEXEC) != 0)
    {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    child.pid = ::fork();
    if (child.pid < 0)
    {
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (child.pid == 0)
    {
        ::setsid();
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        ::execv(args[0], args.data());
        std::perror("wslsim-host: exec");
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    child.in = in[1];
    child.out = out[0];
    child.err = err[0];
    return child;
}

int exit_status(int status)
{
    if (WIFEXITED(status))
    {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status))
    {
        return 128 + WTERMSIG(status);
    }
    return 1;
}

// Runs the launcher with the client's input relayed to it and its output relayed back; returns its
// exit status. The client closing the connection kills it (as closing wsl.exe ends the process).
int relay(
    int client, FrameReader& reader, const std::vector<std::string>& argv, const Json& request)
{
    const bool tty = request.value("tty", false);
    Child child = spawn(
        argv,
        tty,
        request.value("rows", static_cast<unsigned short>(0)),
        request.value("cols", static_cast<unsigned short>(0)));
    bool client_open = true;
    bool out_open = true;
    bool err_open = child.err >= 0;
    bool input_open = true;
    while (out_open || err_open)
    {
        std::array<pollfd, 3> fds = {{
            {.fd = child.out, .events = POLLIN, .revents = 0},
            {.fd = err_open ? child.err : -1, .events = POLLIN, .revents = 0},
            {.fd = client_open ? client : -1, .events = POLLIN, .revents = 0},
        }};
        if (::poll(fds.data(), fds.size(), -1) < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            break;
        }
        std::array<char, 65536> buf{};
        const auto pump = [&](int fd, wslsim::Frame type, bool& open)
        {
            const ssize_t got = ::read(fd, buf.data(), buf.size());
            if (got > 0)
            {
                send_frame(
                    client, type, std::string_view(buf.data(), static_cast<std::size_t>(got)));
            }
            else if (got == 0 || errno != EINTR)
            {
                open = false; // EOF, or EIO on a terminal whose last writer is gone
            }
        };
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
        {
            pump(child.out, wslsim::Frame::out, out_open);
        }
        if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
        {
            pump(child.err, wslsim::Frame::err, err_open);
        }
        if (client_open && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
        {
            if (!reader.fill())
            {
                client_open = false;
                ::kill(-child.pid, SIGKILL);
                ::kill(child.pid, SIGKILL);
            }
            while (auto frame = reader.next())
            {
                if (frame->first == wslsim::Frame::input && input_open)
                {
                    if (frame->second.empty())
                    {
                        input_open = false;
                        if (tty)
                        {
                            const char eof = 4; // ^D: end of input on a terminal
                            (void)::write(child.in, &eof, 1);
                        }
                        else
                        {
                            ::close(child.in);
                            child.in = -1;
                        }
                    }
                    else
                    {
                        std::size_t off = 0;
                        while (off < frame->second.size())
                        {
                            const ssize_t w = ::write(
                                child.in, frame->second.data() + off, frame->second.size() - off);
                            if (w <= 0)
                            {
                                break; // the program stopped reading its input
                            }
                            off += static_cast<std::size_t>(w);
                        }
                    }
                }
                else if (frame->first == wslsim::Frame::window && tty)
                {
                    const std::string_view text = frame->second;
                    const auto x = text.find('x');
                    unsigned short rows = 0;
                    unsigned short cols = 0;
                    if (x != std::string_view::npos
                        && std::from_chars(text.data(), text.data() + x, rows).ec == std::errc()
                        && std::from_chars(text.data() + x + 1, text.data() + text.size(), cols).ec
                               == std::errc())
                    {
                        winsize size{};
                        size.ws_row = rows;
                        size.ws_col = cols;
                        ::ioctl(child.in, TIOCSWINSZ, &size);
                    }
                }
            }
        }
    }
    int status = 0;
    while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR)
    {
    }
    ::close(child.out); // on a terminal also its input: one master side
    if (child.err >= 0)
    {
        ::close(child.err);
    }
    if (!tty && child.in >= 0)
    {
        ::close(child.in);
    }
    return exit_status(status);
}

// Runs the launcher to completion with no input; its output goes to the client.
int run_quiet(int client, FrameReader& reader, const std::vector<std::string>& argv)
{
    return relay(client, reader, argv, Json::object());
}

std::vector<std::string> launcher(std::initializer_list<std::string> args)
{
    std::vector<std::string> argv = {g_azurelinux, "--quiet"};
    argv.insert(argv.end(), args);
    return argv;
}

int op_import(int client, FrameReader& reader, const Json& request)
{
    const std::string name = sandbox_name(request);
    std::string file = request.at("file").get<std::string>();
    // The simulator's VHDX is a tar (op_export): offered to the launcher under a .tar name.
    std::array<char, 32> temp{"/tmp/wslsim-import-XXXXXX"};
    std::optional<fs::path> link;
    if (request.value("vhd", false) && ::mkdtemp(temp.data()) != nullptr)
    {
        link = fs::path(temp.data()) / "disk.tar";
        fs::create_symlink(file, *link);
        file = link->string();
    }
    const int status =
        run_quiet(client, reader, launcher({"install", "--from", file, "--root", "--name", name}));
    if (link)
    {
        std::error_code ec;
        fs::remove_all(link->parent_path(), ec);
    }
    if (status != 0)
    {
        return status;
    }
    // What WSL's init reports to the service after an import (LX_MINI_INIT_IMPORT_RESULT): is it
    // a Linux distribution, and what wsl-distribution.conf and os-release say.
    Json reply = {{"valid", fs::exists(rootfs_of(name) / "bin/sh")}};
    const auto conf = [&](std::string_view section, std::string_view key) -> Json
    {
        auto value = guest_ini(name, "etc/wsl-distribution.conf", section, key);
        return value ? Json(*value) : Json(nullptr);
    };
    reply["default_name"] = conf("oobe", "defaultName");
    reply["oobe_command"] = conf("oobe", "command");
    reply["flavor"] = os_release(name, "ID").value_or("");
    reply["os_version"] = os_release(name, "VERSION_ID").value_or("");
    send_frame(client, wslsim::Frame::reply, reply.dump());
    return 0;
}

int op_launch(int client, FrameReader& reader, const Json& request)
{
    const std::string name = sandbox_name(request);
    std::optional<std::string> user;
    if (request.contains("user") && request["user"].is_string())
    {
        user = request["user"].get<std::string>();
    }
    else if (!guest_ini(name, "etc/wsl.conf", "user", "default"))
    {
        // [user] default of wsl.conf wins over the registered DefaultUid (the sandbox reads it).
        user = std::to_string(request.value("default_uid", 0U));
    }

    // First-run setup: WSL runs wsl-distribution.conf's [oobe] command as root before the first
    // default-shell launch; its failure ends the launch with status 1.
    if (request.value("oobe", false))
    {
        const auto command = guest_ini(name, "etc/wsl-distribution.conf", "oobe", "command");
        Json reply = {{"oobe", "done"}};
        if (command && !command->empty())
        {
            const int status = relay(
                client,
                reader,
                launcher({"run", "--name", name, "--user", "root", "-c", *command}),
                request);
            if (status != 0)
            {
                const std::string message = "OOBE command \"" + *command + "\" failed, exiting\n";
                send_frame(client, wslsim::Frame::err, message);
                send_frame(client, wslsim::Frame::reply, Json{{"oobe", "failed"}}.dump());
                return 1;
            }
        }
        if (const auto uid = guest_ini(name, "etc/wsl-distribution.conf", "oobe", "defaultUid"))
        {
            reply["default_uid"] = std::stoul(*uid);
            if (!request.contains("user") || !request["user"].is_string())
            {
                user = *uid;
            }
        }
        send_frame(client, wslsim::Frame::reply, reply.dump());
    }

    std::vector<std::string> argv = launcher({"run", "--name", name});
    if (user)
    {
        argv.insert(argv.end(), {"--user", *user});
    }
    if (request.contains("cwd") && request["cwd"].is_string())
    {
        argv.insert(argv.end(), {"--cwd", request["cwd"].get<std::string>()});
    }
    if (request.contains("command") && request["command"].is_string())
    {
        argv.insert(argv.end(), {"-c", request["command"].get<std::string>()});
    }
    else if (request.contains("argv") && request["argv"].is_array())
    {
        argv.emplace_back("--");
        for (const auto& a : request["argv"])
        {
            argv.push_back(a.get<std::string>());
        }
    }
    return relay(client, reader, argv, request);
}

int op_export(int client, FrameReader& reader, const Json& request)
{
    const std::string file = request.at("file").get<std::string>();
    // WSL's vhd export is a VHDX disk; the simulator's is a tar under that name (its import
    // takes it back).
    std::string format = request.value("format", "tar");
    if (format == "vhd")
    {
        format = "tar";
    }
    const int status = run_quiet(
        client,
        reader,
        launcher(
            {"backup",
             "--name",
             sandbox_name(request),
             "-o",
             file,
             "--format",
             format,
             "--force"}));
    std::error_code ec;
    fs::remove(file + ".json", ec); // our launcher's settings and checksum: WSL writes neither
    fs::remove(file + ".sha256", ec);
    return status;
}

int op_states(int client, FrameReader& reader, const Json& /*request*/)
{
    // `list --json` through a pipe we read ourselves.
    std::array<int, 2> out{};
    if (::pipe2(out.data(), O_CLOEXEC) != 0)
    {
        return 1;
    }
    const pid_t pid = ::fork();
    if (pid == 0)
    {
        ::dup2(out[1], 1);
        ::execl(g_azurelinux.c_str(), g_azurelinux.c_str(), "--quiet", "list", "--json", nullptr);
        ::_exit(127);
    }
    ::close(out[1]);
    std::string text;
    std::array<char, 65536> buf{};
    for (ssize_t n = 0; (n = ::read(out[0], buf.data(), buf.size())) > 0;)
    {
        text.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    Json running = Json::array();
    try
    {
        for (const auto& d : Json::parse(text))
        {
            const auto distro = d.value("name", std::string());
            const auto state = d.value("state", std::string());
            if (distro.starts_with("wslsim-") && (state == "Running" || state == "running"))
            {
                running.push_back(distro.substr(7));
            }
        }
    }
    catch (const std::exception&)
    {
        send_frame(client, wslsim::Frame::err, "wslsim-host: unreadable `list --json`\n");
        return 1;
    }
    (void)reader;
    send_frame(client, wslsim::Frame::reply, Json{{"running", running}}.dump());
    return exit_status(status);
}

void log_request(const Json& request)
{
    const char* file = std::getenv("WSLSIM_HOST_LOG");
    if (file == nullptr)
    {
        return;
    }
    Json logged = request;
    logged.erase("token");
    std::ofstream(file, std::ios::app) << logged.dump() << '\n';
}

void serve(int client)
{
    const auto line = read_line(client);
    if (!line)
    {
        return;
    }
    Json request;
    try
    {
        request = Json::parse(*line);
    }
    catch (const std::exception&)
    {
        send_frame(client, wslsim::Frame::err, "wslsim-host: the request is not JSON\n");
        send_frame(client, wslsim::Frame::exit, wslsim::encode_status(2));
        return;
    }
    if (request.value("token", std::string()) != g_token)
    {
        send_frame(client, wslsim::Frame::err, "wslsim-host: wrong token\n");
        send_frame(client, wslsim::Frame::exit, wslsim::encode_status(2));
        return;
    }
    log_request(request);
    FrameReader reader(client);
    int status = 2;
    try
    {
        const std::string op = request.value("op", std::string());
        if (op == "import")
        {
            status = op_import(client, reader, request);
        }
        else if (op == "launch")
        {
            status = op_launch(client, reader, request);
        }
        else if (op == "export")
        {
            status = op_export(client, reader, request);
        }
        else if (op == "unregister")
        {
            status = run_quiet(
                client, reader, launcher({"uninstall", "--name", sandbox_name(request), "--yes"}));
        }
        else if (op == "terminate")
        {
            status =
                run_quiet(client, reader, launcher({"terminate", "--name", sandbox_name(request)}));
        }
        else if (op == "states")
        {
            status = op_states(client, reader, request);
        }
        else
        {
            send_frame(client, wslsim::Frame::err, "wslsim-host: unknown operation " + op + "\n");
        }
    }
    catch (const std::exception& e)
    {
        send_frame(client, wslsim::Frame::err, std::string("wslsim-host: ") + e.what() + "\n");
        status = 1;
    }
    send_frame(client, wslsim::Frame::exit, wslsim::encode_status(status));
}

std::string random_token()
{
    std::random_device random;
    std::string token;
    constexpr std::string_view kDigits = "0123456789abcdef";
    for (int i = 0; i < 32; ++i)
    {
        token += kDigits.at(random() % kDigits.size());
    }
    return token;
}

int serve_forever(const std::vector<std::string>& args)
{
    std::string endpoint_file;
    for (std::size_t i = 1; i + 1 < args.size(); i += 2)
    {
        if (args.at(i) == "--azurelinux")
        {
            g_azurelinux = fs::absolute(args.at(i + 1)).string();
        }
        else if (args.at(i) == "--endpoint-file")
        {
            endpoint_file = args.at(i + 1);
        }
    }
    if (g_azurelinux.empty() || endpoint_file.empty())
    {
        std::cerr << "usage: wslsim-host --azurelinux PATH --endpoint-file FILE\n";
        return 2;
    }
    g_token = random_token();

    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0
        || ::listen(listener, 64) != 0
        || ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    {
        std::perror("wslsim-host: listen on 127.0.0.1");
        return 1;
    }
    {
        const std::string temp = endpoint_file + ".tmp";
        const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const std::string text =
            Json{{"port", ntohs(address.sin_port)}, {"token", g_token}}.dump() + "\n";
        if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())
            || ::close(fd) != 0 || ::rename(temp.c_str(), endpoint_file.c_str()) != 0)
        {
            std::perror("wslsim-host: writing the endpoint file");
            return 1;
        }
    }

    struct sigaction ignore
    {
    };

    ignore.sa_handler = SIG_IGN;
    ignore.sa_flags = SA_NOCLDWAIT; // connection handlers are reaped by the kernel
    ::sigaction(SIGCHLD, &ignore, nullptr);
    for (;;)
    {
        const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0)
        {
            if (errno == EINTR || errno == ECONNABORTED)
            {
                continue;
            }
            std::perror("wslsim-host: accept");
            return 1;
        }
        const pid_t pid = ::fork();
        if (pid == 0)
        {
            ::close(listener);

            struct sigaction deflt
            {
            };

            deflt.sa_handler = SIG_DFL;
            ::sigaction(SIGCHLD, &deflt, nullptr); // the handler waits for its own children
            serve(client);
            // Read what the client still sends until it closes: closing a socket with unread
            // input resets the connection, and the client would lose the last frames.
            ::shutdown(client, SHUT_WR);
            std::array<char, 4096> rest{};
            while (::recv(client, rest.data(), rest.size(), 0) > 0)
            {
            }
            ::close(client);
            ::_exit(0);
        }
        ::close(client);
    }
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        return serve_forever(std::vector<std::string>(argv, argv + argc));
    }
    catch (const std::exception& e)
    {
        std::cerr << "wslsim-host: " << e.what() << "\n";
        return 1;
    }
}
