#include "sim.hpp"

#include "../protocol.hpp"

#include <azl/common/scope_guard.hpp>

#include <objbase.h>
#include <shlobj.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cwctype>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace wslsim
{

namespace
{

using Json = nlohmann::json;

constexpr const wchar_t* kLxssKey = L"Software\\Microsoft\\Windows\\CurrentVersion\\Lxss";

// WSL's error codes (src/windows/service/inc/wslservice.idl, winerror.h) and the message wsl.exe
// prints for each (wslutil.cpp GetErrorString → localization/strings/en-US/Resources.resw).
constexpr std::array kErrors = {
    ErrorInfo{
        static_cast<HRESULT>(0x80040301),
        L"WSL_E_DEFAULT_DISTRO_NOT_FOUND",
        L"Windows Subsystem for Linux has no installed distributions.\n"
        L"You can resolve this by installing a distribution with the instructions below:\n\n"
        L"Use 'wsl.exe --list --online' to list available distributions\n"
        L"and 'wsl.exe --install <Distro>' to install."},
    ErrorInfo{
        static_cast<HRESULT>(0x80040302),
        L"WSL_E_DISTRO_NOT_FOUND",
        L"There is no distribution with the supplied name."},
    ErrorInfo{static_cast<HRESULT>(0x80040308), L"WSL_E_USER_NOT_FOUND", L"User not found."},
    ErrorInfo{static_cast<HRESULT>(0x80040309), L"WSL_E_INVALID_USAGE", nullptr},
    ErrorInfo{
        static_cast<HRESULT>(0x8004030a),
        L"WSL_E_EXPORT_FAILED",
        L"Exporting the distribution failed."},
    ErrorInfo{
        static_cast<HRESULT>(0x8004030b),
        L"WSL_E_IMPORT_FAILED",
        L"Importing the distribution failed."},
    ErrorInfo{static_cast<HRESULT>(0x8004030c), L"WSL_E_DISTRO_NOT_STOPPED", nullptr},
    ErrorInfo{static_cast<HRESULT>(0x80040321), L"WSL_E_WSL_OPTIONAL_COMPONENT_REQUIRED", nullptr},
    ErrorInfo{
        static_cast<HRESULT>(0x80040326),
        L"WSL_E_NOT_A_LINUX_DISTRO",
        L"The imported file is not a valid Linux distribution."},
    ErrorInfo{
        static_cast<HRESULT>(0x8004032D), L"WSL_E_VIRTUAL_MACHINE_PLATFORM_REQUIRED", nullptr},
    ErrorInfo{
        static_cast<HRESULT>(0x80040330),
        L"WSL_E_DISTRIBUTION_NAME_NEEDED",
        L"This distribution doesn't contain a default name. Use --name to choose the "
        L"distribution name."},
    ErrorInfo{static_cast<HRESULT>(0x80370102), L"HCS_E_HYPERV_NOT_INSTALLED", nullptr},
    ErrorInfo{static_cast<HRESULT>(0x80070002), L"ERROR_FILE_NOT_FOUND", nullptr},
    ErrorInfo{static_cast<HRESULT>(0x80070003), L"ERROR_PATH_NOT_FOUND", nullptr},
    ErrorInfo{static_cast<HRESULT>(0x80070005), L"E_ACCESSDENIED", nullptr},
    ErrorInfo{static_cast<HRESULT>(0x80070050), L"ERROR_FILE_EXISTS", nullptr},
    ErrorInfo{static_cast<HRESULT>(0x80070057), L"E_INVALIDARG", nullptr},
    ErrorInfo{
        static_cast<HRESULT>(0x800700b7),
        L"ERROR_ALREADY_EXISTS",
        L"A distribution with the supplied name already exists. Use --name to choose a "
        L"different name."},
    ErrorInfo{static_cast<HRESULT>(0x80070070), L"ERROR_DISK_FULL", nullptr},
    ErrorInfo{static_cast<HRESULT>(0x8000000d), L"E_ILLEGAL_STATE_CHANGE", nullptr},
    ErrorInfo{static_cast<HRESULT>(0x80004005), L"E_FAIL", nullptr},
};

bool iequal(std::wstring_view a, std::wstring_view b)
{
    return a.size() == b.size()
           && std::equal(
               a.begin(),
               a.end(),
               b.begin(),
               [](wchar_t x, wchar_t y) { return std::towlower(x) == std::towlower(y); });
}

std::wstring guid_string()
{
    GUID guid{};
    if (FAILED(::CoCreateGuid(&guid)))
    {
        throw WslError{E_FAIL, {}, L"Service/RegisterDistro"};
    }
    std::array<wchar_t, 40> text{};
    ::StringFromGUID2(guid, text.data(), static_cast<int>(text.size()));
    std::wstring out(text.data());
    std::transform(out.begin(), out.end(), out.begin(), ::towlower); // WSL's GuidToString
    return out;
}

std::optional<std::wstring> read_sz(HKEY key, const wchar_t* value)
{
    DWORD bytes = 0;
    if (::RegGetValueW(key, nullptr, value, RRF_RT_REG_SZ, nullptr, nullptr, &bytes)
        != ERROR_SUCCESS)
    {
        return std::nullopt;
    }
    std::wstring out(bytes / sizeof(wchar_t) + 1, L'\0');
    bytes = static_cast<DWORD>(out.size() * sizeof(wchar_t));
    if (::RegGetValueW(key, nullptr, value, RRF_RT_REG_SZ, nullptr, out.data(), &bytes)
        != ERROR_SUCCESS)
    {
        return std::nullopt;
    }
    out.resize(wcsnlen(out.c_str(), out.size()));
    return out;
}

DWORD read_dword(HKEY key, const wchar_t* value, DWORD fallback)
{
    DWORD data = 0;
    DWORD bytes = sizeof data;
    if (::RegGetValueW(key, nullptr, value, RRF_RT_REG_DWORD, nullptr, &data, &bytes)
        != ERROR_SUCCESS)
    {
        return fallback;
    }
    return data;
}

void write_dword(HKEY key, const wchar_t* value, DWORD data)
{
    ::RegSetValueExW(key, value, 0, REG_DWORD, reinterpret_cast<const BYTE*>(&data), sizeof data);
}

void write_sz(HKEY key, const wchar_t* value, std::wstring_view data)
{
    const std::wstring text(data);
    ::RegSetValueExW(
        key,
        value,
        0,
        REG_SZ,
        reinterpret_cast<const BYTE*>(text.c_str()),
        static_cast<DWORD>((text.size() + 1) * sizeof(wchar_t)));
}

class Key
{
public:
    explicit Key(HKEY key)
        : m_key(key)
    {
    }

    Key(const Key&) = delete;
    Key& operator=(const Key&) = delete;
    Key(Key&&) = delete;
    Key& operator=(Key&&) = delete;

    ~Key()
    {
        if (m_key != nullptr)
        {
            ::RegCloseKey(m_key);
        }
    }

    [[nodiscard]] HKEY get() const
    {
        return m_key;
    }

private:
    HKEY m_key;
};

Key open_sub(HKEY parent, const std::wstring& guid, REGSAM access)
{
    HKEY key = nullptr;
    if (::RegOpenKeyExW(parent, guid.c_str(), 0, access, &key) != ERROR_SUCCESS)
    {
        throw WslError{static_cast<HRESULT>(0x80040302), {}, L"Service"};
    }
    return Key(key);
}

// --- the connection to wslsim-host ---

class Socket
{
public:
    Socket()
    {
        static const bool started = []
        {
            WSADATA data{};
            return ::WSAStartup(MAKEWORD(2, 2), &data) == 0;
        }();
        if (!started)
        {
            throw WslError{E_FAIL, L"wslsim: Winsock did not start", {}};
        }
        const auto host = env(L"WSLSIM_HOST");
        const auto colon = host ? host->rfind(L':') : std::wstring::npos;
        if (colon == std::wstring::npos)
        {
            throw WslError{
                E_FAIL,
                L"wslsim: WSLSIM_HOST is not set: start wslsim-host and export its address",
                {}};
        }
        m_socket = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<u_short>(std::stoi(host->substr(colon + 1))));
        ::InetPtonW(AF_INET, host->substr(0, colon).c_str(), &address.sin_addr);
        if (m_socket == INVALID_SOCKET
            || ::connect(m_socket, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        {
            throw WslError{E_FAIL, L"wslsim: cannot reach wslsim-host at " + *host, L"Service"};
        }
    }

    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    Socket(Socket&&) = delete;
    Socket& operator=(Socket&&) = delete;

    ~Socket()
    {
        if (m_socket != INVALID_SOCKET)
        {
            ::closesocket(m_socket);
        }
    }

    bool send_all(const char* data, std::size_t size) const
    {
        while (size > 0)
        {
            const int n =
                ::send(m_socket, data, static_cast<int>(std::min<std::size_t>(size, 1U << 20U)), 0);
            if (n <= 0)
            {
                return false;
            }
            data += n;
            size -= static_cast<std::size_t>(n);
        }
        return true;
    }

    bool send_frame(Frame type, std::string_view payload)
    {
        const auto header = frame_header(type, static_cast<std::uint32_t>(payload.size()));
        const std::lock_guard lock(m_send);
        return send_all(header.data(), header.size()) && send_all(payload.data(), payload.size());
    }

    bool recv_all(char* data, std::size_t size) const
    {
        while (size > 0)
        {
            const int n = ::recv(m_socket, data, static_cast<int>(size), 0);
            if (n <= 0)
            {
                return false;
            }
            data += n;
            size -= static_cast<std::size_t>(n);
        }
        return true;
    }

private:
    SOCKET m_socket = INVALID_SOCKET;
    std::mutex m_send;
};

void write_handle(HANDLE handle, std::string_view bytes)
{
    if (handle == nullptr || handle == INVALID_HANDLE_VALUE)
    {
        return;
    }
    std::size_t off = 0;
    while (off < bytes.size())
    {
        DWORD n = 0;
        if (::WriteFile(
                handle,
                bytes.data() + off,
                static_cast<DWORD>(std::min<std::size_t>(bytes.size() - off, 1U << 20U)),
                &n,
                nullptr)
            == 0)
        {
            return; // the reader went away
        }
        off += n;
    }
}

int relay(
    Json request, const HostStreams& streams, const std::function<void(const Json&)>& on_reply)
{
    const auto socket = std::make_shared<Socket>();
    request["token"] = narrow(env(L"WSLSIM_TOKEN").value_or(L""));
    if (streams.console)
    {
        CONSOLE_SCREEN_BUFFER_INFO info{};
        if (::GetConsoleScreenBufferInfo(streams.out, &info) != 0)
        {
            request["rows"] = info.srWindow.Bottom - info.srWindow.Top + 1;
            request["cols"] = info.srWindow.Right - info.srWindow.Left + 1;
        }
        request["tty"] = true;
    }
    // On a console, input goes to the Linux terminal as typed: raw, no echo, VT sequences (as
    // wsl.exe sets it); the terminal in the guest echoes and edits. Restored when done.
    DWORD saved_in_mode = 0;
    DWORD saved_out_mode = 0;
    const bool restore_in = streams.console && ::GetConsoleMode(streams.in, &saved_in_mode) != 0;
    const bool restore_out = streams.console && ::GetConsoleMode(streams.out, &saved_out_mode) != 0;
    if (restore_in)
    {
        ::SetConsoleMode(streams.in, ENABLE_VIRTUAL_TERMINAL_INPUT);
    }
    if (restore_out)
    {
        ::SetConsoleMode(
            streams.out,
            saved_out_mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING | DISABLE_NEWLINE_AUTO_RETURN);
    }

    const azl::ScopeGuard restore_modes(
        [&]
        {
            if (restore_in)
            {
                ::SetConsoleMode(streams.in, saved_in_mode);
            }
            if (restore_out)
            {
                ::SetConsoleMode(streams.out, saved_out_mode);
            }
        });

    const std::string header = request.dump() + "\n";
    if (!socket->send_all(header.data(), header.size()))
    {
        throw WslError{E_FAIL, L"wslsim: the connection to wslsim-host broke", L"Service"};
    }
    // Input: a thread of its own. A pipe or file is read until its end, blocking: when the guest
    // program ends first, the process exits with the read still pending, as wsl.exe does. A
    // console is read event by event, never blocking, and stopped before we return: a console
    // read left pending at exit would, under Wine, take the next program's input.
    std::shared_ptr<std::atomic<bool>> stop = std::make_shared<std::atomic<bool>>(false);
    std::thread console_reader;
    if (streams.in != nullptr && streams.console)
    {
        console_reader = std::thread(
            [socket, stop, in = streams.in]
            {
                std::array<INPUT_RECORD, 128> records{};
                while (!stop->load())
                {
                    if (::WaitForSingleObject(in, 50) != WAIT_OBJECT_0)
                    {
                        continue;
                    }
                    DWORD n = 0;
                    if (::ReadConsoleInputW(
                            in, records.data(), static_cast<DWORD>(records.size()), &n)
                        == 0)
                    {
                        break;
                    }
                    std::wstring text;
                    for (DWORD i = 0; i < n; ++i)
                    {
                        const INPUT_RECORD& record = records.at(i);
                        if (record.EventType != KEY_EVENT)
                        {
                            continue;
                        }
                        // NOLINTBEGIN(cppcoreguidelines-pro-type-union-access): Windows' own
                        // union; EventType says which member is valid
                        const KEY_EVENT_RECORD& key = record.Event.KeyEvent;
                        const wchar_t c = key.uChar.UnicodeChar;
                        // NOLINTEND(cppcoreguidelines-pro-type-union-access)
                        if (key.bKeyDown != 0 && c != 0)
                        {
                            text.append(std::max<WORD>(key.wRepeatCount, 1), c);
                        }
                    }
                    if (!text.empty() && !socket->send_frame(Frame::input, narrow(text)))
                    {
                        return;
                    }
                }
            });
    }
    else if (streams.in != nullptr)
    {
        std::thread(
            [socket, in = streams.in]
            {
                std::array<char, 65536> buf{};
                for (;;)
                {
                    DWORD n = 0;
                    if (::ReadFile(in, buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr) == 0
                        || n == 0)
                    {
                        break;
                    }
                    if (!socket->send_frame(Frame::input, std::string_view(buf.data(), n)))
                    {
                        return;
                    }
                }
                socket->send_frame(Frame::input, {});
            })
            .detach();
    }
    else
    {
        socket->send_frame(Frame::input, {});
    }

    const azl::ScopeGuard stop_reader(
        [&]
        {
            stop->store(true);
            if (console_reader.joinable())
            {
                console_reader.join();
            }
        });

    for (;;)
    {
        std::array<char, 5> frame{};
        if (!socket->recv_all(frame.data(), frame.size()))
        {
            throw WslError{E_FAIL, L"wslsim: wslsim-host closed the connection", L"Service"};
        }
        std::string payload(frame_length(frame), '\0');
        if (!socket->recv_all(payload.data(), payload.size()))
        {
            throw WslError{E_FAIL, L"wslsim: wslsim-host closed the connection", L"Service"};
        }
        switch (static_cast<Frame>(frame[0]))
        {
        case Frame::out:
            write_handle(streams.out, payload);
            break;
        case Frame::err:
            write_handle(streams.err, payload);
            break;
        case Frame::reply:
            on_reply(Json::parse(payload));
            break;
        case Frame::exit:
            return decode_status(payload);
        default:
            break;
        }
    }
}

} // namespace

std::wstring widen(std::string_view utf8)
{
    if (utf8.empty())
    {
        return {};
    }
    const int n =
        ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
    std::wstring out(static_cast<std::size_t>(n), L'\0');
    ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
    return out;
}

std::string narrow(std::wstring_view wide)
{
    if (wide.empty())
    {
        return {};
    }
    const int n = ::WideCharToMultiByte(
        CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<std::size_t>(n), '\0');
    ::WideCharToMultiByte(
        CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), out.data(), n, nullptr, nullptr);
    return out;
}

std::optional<std::wstring> env(const wchar_t* name)
{
    const DWORD n = ::GetEnvironmentVariableW(name, nullptr, 0);
    if (n == 0)
    {
        return std::nullopt;
    }
    std::wstring out(n, L'\0');
    out.resize(::GetEnvironmentVariableW(name, out.data(), n));
    return out;
}

std::optional<ErrorInfo> error_by_name(std::wstring_view name)
{
    for (const auto& e : kErrors)
    {
        if (name == e.name)
        {
            return e;
        }
    }
    if (name.size() == 10 && name.starts_with(L"0x"))
    {
        const auto hr = static_cast<HRESULT>(std::stoul(std::wstring(name.substr(2)), nullptr, 16));
        return ErrorInfo{hr, nullptr, nullptr};
    }
    return std::nullopt;
}

std::wstring error_name(HRESULT hr)
{
    for (const auto& e : kErrors)
    {
        if (e.hr == hr)
        {
            return e.name;
        }
    }
    std::array<wchar_t, 16> text{};
    (void)swprintf(text.data(), text.size(), L"0x%08lx", static_cast<unsigned long>(hr));
    return text.data();
}

std::wstring error_message(HRESULT hr)
{
    for (const auto& e : kErrors)
    {
        if (e.hr == hr && e.message != nullptr)
        {
            return e.message;
        }
    }
    wchar_t* buffer = nullptr;
    const DWORD n = ::FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr,
        static_cast<DWORD>(hr),
        0,
        reinterpret_cast<wchar_t*>(&buffer),
        0,
        nullptr);
    std::wstring text = n != 0 ? std::wstring(buffer, n) : L"Error " + error_name(hr);
    ::LocalFree(buffer);
    while (!text.empty() && (text.back() == L'\n' || text.back() == L'\r' || text.back() == L' '))
    {
        text.pop_back();
    }
    return text;
}

std::optional<HRESULT> injected(std::wstring_view verb)
{
    const auto faults = env(L"WSLSIM_FAIL");
    if (!faults)
    {
        return std::nullopt;
    }
    std::wstring_view rest = *faults;
    while (!rest.empty())
    {
        const auto comma = rest.find(L',');
        const std::wstring_view item = rest.substr(0, comma);
        rest = comma == std::wstring_view::npos ? std::wstring_view() : rest.substr(comma + 1);
        const auto eq = item.find(L'=');
        if (eq != std::wstring_view::npos && item.substr(0, eq) == verb)
        {
            if (auto e = error_by_name(item.substr(eq + 1)))
            {
                return e->hr;
            }
            return E_FAIL;
        }
    }
    return std::nullopt;
}

void log_call(std::wstring_view line)
{
    auto file = env(L"WSLSIM_LOG");
    if (!file)
    {
        return;
    }
    if (file->starts_with(L"/"))
    {
        std::replace(file->begin(), file->end(), L'/', L'\\');
        file->insert(0, L"Z:");
    }
    HANDLE h = ::CreateFileW(
        file->c_str(),
        FILE_APPEND_DATA,
        FILE_SHARE_READ | FILE_SHARE_WRITE,
        nullptr,
        OPEN_ALWAYS,
        FILE_ATTRIBUTE_NORMAL,
        nullptr);
    if (h == INVALID_HANDLE_VALUE)
    {
        return;
    }
    const std::string text = narrow(line) + "\n";
    DWORD n = 0;
    ::WriteFile(h, text.data(), static_cast<DWORD>(text.size()), &n, nullptr);
    ::CloseHandle(h);
}

// --- Registry ---

Registry::Registry()
{
    if (::RegCreateKeyExW(
            HKEY_CURRENT_USER, kLxssKey, 0, nullptr, 0, KEY_ALL_ACCESS, nullptr, &m_key, nullptr)
        != ERROR_SUCCESS)
    {
        throw WslError{static_cast<HRESULT>(0x80070005), {}, L"Service"};
    }
}

Registry::~Registry()
{
    ::RegCloseKey(m_key);
}

std::vector<Distro> Registry::distros(bool include_transient) const
{
    std::vector<Distro> out;
    std::array<wchar_t, 256> name{};
    for (DWORD i = 0;; ++i)
    {
        auto length = static_cast<DWORD>(name.size());
        if (::RegEnumKeyExW(m_key, i, name.data(), &length, nullptr, nullptr, nullptr, nullptr)
            != ERROR_SUCCESS)
        {
            break;
        }
        const std::wstring guid(name.data(), length);
        HKEY raw = nullptr;
        if (::RegOpenKeyExW(m_key, guid.c_str(), 0, KEY_READ, &raw) != ERROR_SUCCESS)
        {
            continue;
        }
        const Key key(raw);
        auto distro_name = read_sz(key.get(), L"DistributionName");
        if (!distro_name)
        {
            continue;
        }
        Distro d{
            .guid = guid,
            .name = *distro_name,
            .base_path = read_sz(key.get(), L"BasePath").value_or(L""),
            .version = read_dword(key.get(), L"Version", 2),
            .flags = read_dword(key.get(), L"Flags", kFlagsDefault),
            .default_uid = read_dword(key.get(), L"DefaultUid", 0),
            .state = read_dword(key.get(), L"State", 0),
            .run_oobe = read_dword(key.get(), L"RunOOBE", 0),
        };
        if (include_transient || d.state == kStateInstalled)
        {
            out.push_back(std::move(d));
        }
    }
    return out;
}

std::optional<Distro> Registry::find(std::wstring_view name) const
{
    for (auto& d : distros())
    {
        if (iequal(d.name, name))
        {
            return d;
        }
    }
    return std::nullopt;
}

std::optional<std::wstring> Registry::default_guid() const
{
    return read_sz(m_key, L"DefaultDistribution");
}

Distro Registry::default_distro() const
{
    const auto guid = default_guid();
    for (auto& d : distros())
    {
        if (guid && iequal(d.guid, *guid))
        {
            return d;
        }
    }
    throw WslError{static_cast<HRESULT>(0x80040301), {}, L"Service"};
}

Distro Registry::create(
    std::wstring_view name, std::wstring_view base_path, bool run_oobe, DWORD default_uid)
{
    Distro d{
        .guid = guid_string(),
        .name = std::wstring(name),
        .base_path = std::wstring(base_path),
        .version = 2,
        .flags = kFlagsDefault | kFlagVmMode,
        .default_uid = default_uid,
        .state = kStateInstalling,
        .run_oobe = run_oobe ? 1U : 0U,
    };
    HKEY raw = nullptr;
    if (::RegCreateKeyExW(
            m_key, d.guid.c_str(), 0, nullptr, 0, KEY_ALL_ACCESS, nullptr, &raw, nullptr)
        != ERROR_SUCCESS)
    {
        throw WslError{static_cast<HRESULT>(0x80070005), {}, L"Service/RegisterDistro"};
    }
    const Key key(raw);
    write_dword(key.get(), L"State", d.state);
    if (!d.name.empty())
    {
        write_sz(key.get(), L"DistributionName", d.name);
    }
    write_dword(key.get(), L"Version", d.version);
    write_sz(key.get(), L"BasePath", d.base_path);
    write_dword(key.get(), L"Flags", d.flags);
    write_dword(key.get(), L"DefaultUid", d.default_uid);
    write_dword(key.get(), L"RunOOBE", d.run_oobe);
    write_sz(key.get(), L"VhdFileName", L"ext4.vhdx");
    return d;
}

void Registry::set_dword(const std::wstring& guid, const wchar_t* value, DWORD data)
{
    const Key key = open_sub(m_key, guid, KEY_SET_VALUE);
    write_dword(key.get(), value, data);
}

void Registry::set_string(const std::wstring& guid, const wchar_t* value, std::wstring_view data)
{
    const Key key = open_sub(m_key, guid, KEY_SET_VALUE);
    write_sz(key.get(), value, data);
}

void Registry::mark_installed(const Distro& distro)
{
    set_dword(distro.guid, L"State", kStateInstalled);
    const auto current = default_guid();
    bool has_default = false;
    for (const auto& d : distros())
    {
        has_default = has_default || (current && iequal(d.guid, *current));
    }
    if (!has_default)
    {
        set_default(distro);
    }
}

void Registry::set_default(const Distro& distro)
{
    write_sz(m_key, L"DefaultDistribution", distro.guid);
}

void Registry::remove(const Distro& distro)
{
    ::RegDeleteTreeW(m_key, distro.guid.c_str());
    const auto current = default_guid();
    if (current && iequal(*current, distro.guid))
    {
        ::RegDeleteValueW(m_key, L"DefaultDistribution");
    }
}

Distro require(const Registry& registry, std::wstring_view name)
{
    auto d = registry.find(name);
    if (!d)
    {
        throw WslError{static_cast<HRESULT>(0x80040302), {}, L"Service"};
    }
    return *d;
}

bool valid_name(std::wstring_view name)
{
    if (name.empty() || name.size() > 256 || iequal(name, L"Legacy"))
    {
        return false;
    }
    return std::all_of(
        name.begin(),
        name.end(),
        [](wchar_t c)
        {
            return (c >= L'a' && c <= L'z') || (c >= L'A' && c <= L'Z') || (c >= L'0' && c <= L'9')
                   || c == L'.' || c == L'_' || c == L'-';
        });
}

std::string unix_path(const std::wstring& windows_path)
{
    // Wine's own translation: kernel32's wine_get_unix_file_name follows the prefix's dosdevices.
    using Fn = char*(CDECL*)(const wchar_t*);
    static const auto fn = reinterpret_cast<Fn>(reinterpret_cast<void (*)()>(
        ::GetProcAddress(::GetModuleHandleW(L"kernel32.dll"), "wine_get_unix_file_name")));
    std::array<wchar_t, 32768> full{};
    const DWORD n = ::GetFullPathNameW(
        windows_path.c_str(), static_cast<DWORD>(full.size()), full.data(), nullptr);
    const std::wstring absolute = n != 0 ? std::wstring(full.data(), n) : windows_path;
    if (fn == nullptr)
    {
        throw WslError{E_FAIL, L"wslsim: runs under Wine only (no wine_get_unix_file_name)", {}};
    }
    char* unix_name = fn(absolute.c_str());
    if (unix_name == nullptr)
    {
        throw WslError{static_cast<HRESULT>(0x80070003), {}, {}};
    }
    std::string out(unix_name);
    ::HeapFree(::GetProcessHeap(), 0, unix_name);
    return out;
}

std::string guest_path(const std::wstring& windows_path)
{
    // Only C: is mounted in the sandbox (at /mnt/c), as drive mounting makes X: /mnt/x on WSL.
    if (windows_path.size() >= 2 && windows_path[1] == L':'
        && std::towlower(windows_path[0]) == L'c')
    {
        std::string rest = narrow(windows_path.substr(2));
        std::replace(rest.begin(), rest.end(), '\\', '/');
        while (rest.size() > 1 && rest.back() == '/')
        {
            rest.pop_back();
        }
        return "/mnt/c" + (rest.empty() || rest == "/" ? std::string() : rest);
    }
    return {};
}

int host_call(Json request, const HostStreams& streams, std::vector<Json>* replies)
{
    return relay(
        std::move(request),
        streams,
        [replies](const Json& reply)
        {
            if (replies != nullptr)
            {
                replies->push_back(reply);
            }
        });
}

Captured host_capture(Json request)
{
    // Anonymous pipes of our own, drained by threads while the relay runs.
    Captured result;
    HANDLE out_r = nullptr;
    HANDLE out_w = nullptr;
    HANDLE err_r = nullptr;
    HANDLE err_w = nullptr;
    ::CreatePipe(&out_r, &out_w, nullptr, 0);
    ::CreatePipe(&err_r, &err_w, nullptr, 0);
    const auto drain = [](HANDLE h, std::string& into)
    {
        std::array<char, 65536> buf{};
        DWORD n = 0;
        while (::ReadFile(h, buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr) != 0 && n > 0)
        {
            into.append(buf.data(), n);
        }
    };
    std::thread t_out(drain, out_r, std::ref(result.out));
    std::thread t_err(drain, err_r, std::ref(result.err));
    try
    {
        result.status =
            host_call(std::move(request), {nullptr, out_w, err_w, false}, &result.replies);
    }
    catch (...)
    {
        ::CloseHandle(out_w);
        ::CloseHandle(err_w);
        t_out.join();
        t_err.join();
        ::CloseHandle(out_r);
        ::CloseHandle(err_r);
        throw;
    }
    ::CloseHandle(out_w);
    ::CloseHandle(err_w);
    t_out.join();
    t_err.join();
    ::CloseHandle(out_r);
    ::CloseHandle(err_r);
    return result;
}

std::vector<std::wstring> running_guids()
{
    const Captured c = host_capture({{"op", "states"}});
    std::vector<std::wstring> out;
    for (const auto& reply : c.replies)
    {
        for (const auto& id : reply.value("running", Json::array()))
        {
            out.push_back(L"{" + widen(id.get<std::string>()) + L"}");
        }
    }
    return out;
}

int launch(Registry& registry, const Distro& distro, Json request, const HostStreams& streams)
{
    request["op"] = "launch";
    request["id"] = narrow(distro.guid);
    request["default_uid"] = distro.default_uid;
    // WSL runs first-run setup before a default-shell launch while RunOOBE is set
    // (WslCoreInstance: LxInitCreateProcessFlagAllowOOBE), and records its result.
    const bool shell = !request.contains("command") && !request.contains("argv");
    request["oobe"] = shell && distro.run_oobe != 0;
    return relay(
        std::move(request),
        streams,
        [&registry, &distro](const Json& reply)
        {
            if (reply.value("oobe", std::string()) == "done")
            {
                registry.set_dword(distro.guid, L"RunOOBE", 0);
                if (reply.contains("default_uid"))
                {
                    registry.set_dword(
                        distro.guid, L"DefaultUid", reply["default_uid"].get<DWORD>());
                }
            }
        });
}

} // namespace wslsim
