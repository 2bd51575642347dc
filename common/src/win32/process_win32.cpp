#include <azl/common/command_line.hpp>
#include <azl/common/error.hpp>
#include <azl/common/process.hpp>
#include <azl/common/win32/win32.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <exception>
#include <thread>

// Windows counterpart of process_posix.cpp: CreateProcessW with a command line quoted by the
// CommandLineToArgvW rules, a Unicode environment block, anonymous pipes served by one thread each
// (they cannot be polled), and exactly the three standard handles inherited (a handle list), so a
// child never holds another child's pipe open. With a timeout the child runs in a job object, and
// the whole job is ended when the time is up.

namespace azl
{

namespace fs = std::filesystem;
using win32::UniqueHandle;

namespace
{

SECURITY_ATTRIBUTES inheritable()
{
    return {sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
}

struct Pipe
{
    UniqueHandle read;
    UniqueHandle write;
};

// A pipe whose child end is inheritable and whose end of ours is not.
Pipe make_pipe(bool child_reads)
{
    SECURITY_ATTRIBUTES sa = inheritable();
    HANDLE r = nullptr;
    HANDLE w = nullptr;
    if (::CreatePipe(&r, &w, &sa, 0) == 0)
    {
        win32::throw_last_error("creating a pipe");
    }
    Pipe pipe{UniqueHandle(r), UniqueHandle(w)};
    if (::SetHandleInformation(child_reads ? w : r, HANDLE_FLAG_INHERIT, 0) == 0)
    {
        win32::throw_last_error("configuring a pipe");
    }
    return pipe;
}

UniqueHandle open_null(bool for_writing)
{
    SECURITY_ATTRIBUTES sa = inheritable();
    UniqueHandle h(::CreateFileW(
        L"NUL",
        for_writing ? GENERIC_WRITE : GENERIC_READ,
        FILE_SHARE_READ | FILE_SHARE_WRITE,
        &sa,
        OPEN_EXISTING,
        0,
        nullptr));
    if (!h)
    {
        win32::throw_last_error("opening NUL");
    }
    return h;
}

// An inheritable duplicate of one of our standard handles; NUL when we have none (no console).
UniqueHandle inherit_standard(DWORD which)
{
    auto* const ours = ::GetStdHandle(which);
    if (ours == nullptr || ours == INVALID_HANDLE_VALUE)
    {
        return open_null(which != STD_INPUT_HANDLE);
    }
    HANDLE dup = nullptr;
    if (::DuplicateHandle(
            ::GetCurrentProcess(),
            ours,
            ::GetCurrentProcess(),
            &dup,
            0,
            TRUE,
            DUPLICATE_SAME_ACCESS)
        == 0)
    {
        win32::throw_last_error("passing a standard handle to a child process");
    }
    return UniqueHandle(dup);
}

// Windows sorts environment blocks by name, case-insensitively, and compares names that way.
struct NameLess
{
    bool operator()(const std::wstring& a, const std::wstring& b) const
    {
        return ::CompareStringOrdinal(
                   a.data(), static_cast<int>(a.size()), b.data(), static_cast<int>(b.size()), TRUE)
               == CSTR_LESS_THAN;
    }
};

struct EnvStrings
{
    void operator()(wchar_t* p) const noexcept
    {
        ::FreeEnvironmentStringsW(p);
    }
};

std::wstring environment_block(const ProcessOptions& options)
{
    std::map<std::wstring, std::wstring, NameLess> env;
    if (options.env_base == EnvBase::inherit)
    {
        const std::unique_ptr<wchar_t, EnvStrings> strings(::GetEnvironmentStringsW());
        for (const wchar_t* p = strings.get(); p != nullptr && *p != L'\0'; p += wcslen(p) + 1)
        {
            const std::wstring_view entry(p);
            // Names may start with '=' (the per-drive current directories "=C:=C:\…").
            const auto eq = entry.find(L'=', 1);
            if (eq != std::wstring_view::npos)
            {
                env.emplace(std::wstring(entry.substr(0, eq)), std::wstring(entry.substr(eq + 1)));
            }
        }
    }
    for (const auto& name : options.unset_env)
    {
        env.erase(win32::to_wide(name, "an environment variable name"));
    }
    for (const auto& [name, value] : options.set_env)
    {
        env[win32::to_wide(name, "an environment variable name")] =
            win32::to_wide(value, "an environment variable value");
    }
    std::wstring block;
    for (const auto& [name, value] : env)
    {
        block += name;
        block += L'=';
        block += value;
        block += L'\0';
    }
    block += L'\0';
    if (env.empty())
    {
        block += L'\0';
    }
    return block;
}

// A std::jthread that carries its exception to the joining thread.
class Worker
{
public:
    template <class Fn>
    explicit Worker(Fn fn)
        : m_thread(
            [this, fn = std::move(fn)]
            {
                try
                {
                    fn();
                }
                catch (...)
                {
                    m_error = std::current_exception();
                }
            })
    {
    }

    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    Worker(Worker&&) = delete; // the thread holds `this`
    Worker& operator=(Worker&&) = delete;
    ~Worker() = default;

    // Waits for the thread and rethrows what it threw.
    void join()
    {
        if (m_thread.joinable())
        {
            m_thread.join();
        }
        if (m_error)
        {
            std::rethrow_exception(m_error);
        }
    }

private:
    std::exception_ptr m_error;
    std::jthread m_thread;
};

struct AttributeList
{
    void operator()(LPPROC_THREAD_ATTRIBUTE_LIST list) const noexcept
    {
        ::DeleteProcThreadAttributeList(list);
    }
};

// Starts the child with exactly `handles` inherited; returns its process information.
PROCESS_INFORMATION start(
    const fs::path& program,
    std::wstring command_line,
    std::wstring environment,
    const fs::path& cwd,
    std::array<HANDLE, 3> stdio,
    bool suspended)
{
    std::vector<HANDLE> handles(stdio.begin(), stdio.end());
    std::sort(handles.begin(), handles.end());
    handles.erase(std::unique(handles.begin(), handles.end()), handles.end());

    SIZE_T size = 0;
    ::InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
    std::vector<std::byte> storage(size);
    auto* raw = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage.data());
    if (::InitializeProcThreadAttributeList(raw, 1, 0, &size) == 0)
    {
        win32::throw_last_error("preparing a child process");
    }
    const std::unique_ptr<_PROC_THREAD_ATTRIBUTE_LIST, AttributeList> list(raw);
    if (::UpdateProcThreadAttribute(
            list.get(),
            0,
            PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
            handles.data(),
            handles.size() * sizeof(HANDLE),
            nullptr,
            nullptr)
        == 0)
    {
        win32::throw_last_error("preparing a child process");
    }
    STARTUPINFOEXW si = {};
    si.StartupInfo.cb = sizeof si;
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = stdio[0];
    si.StartupInfo.hStdOutput = stdio[1];
    si.StartupInfo.hStdError = stdio[2];
    si.lpAttributeList = list.get();
    PROCESS_INFORMATION pi = {};
    const DWORD flags = CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT
                        | (suspended ? CREATE_SUSPENDED : 0U);
    if (::CreateProcessW(
            program.c_str(),
            command_line.data(),
            nullptr,
            nullptr,
            TRUE,
            flags,
            environment.data(),
            cwd.empty() ? nullptr : cwd.c_str(),
            &si.StartupInfo,
            &pi)
        == 0)
    {
        const DWORD err = ::GetLastError();
        throw UserError(
            fmt::format("cannot run {}: {}", program.string(), win32::error_message(err)));
    }
    return pi;
}

// A job that ends every process in it when told to or when its last handle closes.
UniqueHandle make_kill_job()
{
    UniqueHandle job(::CreateJobObjectW(nullptr, nullptr));
    if (!job)
    {
        win32::throw_last_error("creating a job object");
    }
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (::SetInformationJobObject(
            job.get(), JobObjectExtendedLimitInformation, &limits, sizeof limits)
        == 0)
    {
        win32::throw_last_error("configuring a job object");
    }
    return job;
}

std::optional<std::wstring> environment_variable(const wchar_t* name)
{
    const DWORD needed = ::GetEnvironmentVariableW(name, nullptr, 0);
    if (needed == 0)
    {
        return std::nullopt;
    }
    std::wstring value(needed, L'\0');
    const DWORD n = ::GetEnvironmentVariableW(name, value.data(), needed);
    value.resize(n);
    return value;
}

bool is_file(const fs::path& path)
{
    const DWORD attributes = ::GetFileAttributesW(path.c_str());
    return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) == 0;
}

// `base` itself when it names an .exe or .com, else with those extensions appended.
std::optional<fs::path> existing_program(const fs::path& base)
{
    std::wstring ext = base.extension().wstring();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::towlower);
    if (ext == L".exe" || ext == L".com")
    {
        return is_file(base) ? std::optional<fs::path>(base) : std::nullopt;
    }
    for (const wchar_t* suffix : {L".exe", L".com"})
    {
        fs::path candidate = base;
        candidate += suffix;
        if (is_file(candidate))
        {
            return candidate;
        }
    }
    return std::nullopt;
}

} // namespace

std::optional<fs::path> find_program(const std::string& name)
{
    if (name.empty())
    {
        return std::nullopt;
    }
    const fs::path program(win32::to_wide(name, "a program name"));
    if (name.find_first_of("/\\:") != std::string::npos)
    {
        return existing_program(program);
    }
    // PATH only: unlike CreateProcess's own search, never the current directory, where anyone
    // could have left a wsl.exe.
    const std::wstring path = environment_variable(L"PATH").value_or(std::wstring());
    std::size_t start = 0;
    while (start < path.size())
    {
        const auto end = std::min(path.find(L';', start), path.size());
        std::wstring dir = path.substr(start, end - start);
        std::erase(dir, L'"');
        start = end + 1;
        if (dir.empty())
        {
            continue;
        }
        if (auto found = existing_program(fs::path(dir) / program))
        {
            return found;
        }
    }
    return std::nullopt;
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options)
{
    if (argv.empty())
    {
        throw std::invalid_argument("run_process: empty argv");
    }
    if (options.in_child)
    {
        throw std::invalid_argument("run_process: in_child needs fork (POSIX only)");
    }
    const auto program = find_program(argv.front());
    if (!program)
    {
        throw UserError(
            fmt::format("cannot run {}: program not found", argv.front()),
            fmt::format("install {} or add it to PATH", argv.front()));
    }

    std::optional<Pipe> in_pipe;
    std::optional<Pipe> out_pipe;
    std::optional<Pipe> err_pipe;
    std::array<UniqueHandle, 3> child_ends;
    if (options.stdin_data)
    {
        in_pipe = make_pipe(true);
        child_ends[0] = std::move(in_pipe->read);
    }
    else
    {
        child_ends[0] = options.stdin_mode == Stream::inherit ? inherit_standard(STD_INPUT_HANDLE)
                                                              : open_null(false);
    }
    const auto wire = [](Stream mode, DWORD which, std::optional<Pipe>& pipe, UniqueHandle& end)
    {
        if (mode == Stream::capture)
        {
            pipe = make_pipe(false);
            end = std::move(pipe->write);
        }
        else
        {
            end = mode == Stream::inherit ? inherit_standard(which) : open_null(true);
        }
    };
    wire(options.stdout_mode, STD_OUTPUT_HANDLE, out_pipe, child_ends[1]);
    wire(options.stderr_mode, STD_ERROR_HANDLE, err_pipe, child_ends[2]);

    UniqueHandle job;
    if (options.timeout)
    {
        job = make_kill_job();
    }
    const PROCESS_INFORMATION pi = start(
        *program,
        win32::to_wide(windows_command_line(argv), "a command line"),
        environment_block(options),
        options.cwd,
        {child_ends[0].get(), child_ends[1].get(), child_ends[2].get()},
        static_cast<bool>(job));
    const UniqueHandle process(pi.hProcess);
    const UniqueHandle thread(pi.hThread);
    if (job)
    {
        if (::AssignProcessToJobObject(job.get(), process.get()) == 0)
        {
            const DWORD err = ::GetLastError();
            ::TerminateProcess(process.get(), 1);
            throw win32::make_system_error(fmt::format("starting {}", argv.front()), err);
        }
        ::ResumeThread(thread.get());
    }
    // Our copies of the child's ends must go, or the pipes never report end of file.
    child_ends = {};

    ProcessResult result;
    std::optional<Worker> writer;
    std::optional<Worker> out_reader;
    std::optional<Worker> err_reader;
    if (in_pipe)
    {
        writer.emplace(
            [&in_pipe, &options] {
                win32::write_pipe(
                    std::move(in_pipe->write), *options.stdin_data, "a child's input");
            });
    }
    if (out_pipe)
    {
        out_reader.emplace(
            [&out_pipe, &result]
            { win32::read_pipe(out_pipe->read.get(), result.out, "a child's output"); });
    }
    if (err_pipe)
    {
        err_reader.emplace(
            [&err_pipe, &result]
            { win32::read_pipe(err_pipe->read.get(), result.err, "a child's output"); });
    }

    const DWORD wait_ms =
        options.timeout
            ? static_cast<DWORD>(std::min<long long>(options.timeout->count(), INFINITE - 1))
            : INFINITE;
    if (::WaitForSingleObject(process.get(), wait_ms) == WAIT_TIMEOUT)
    {
        ::TerminateJobObject(job.get(), 1);
        result.timed_out = true;
        ::WaitForSingleObject(process.get(), INFINITE);
    }
    for (auto* worker : {&writer, &out_reader, &err_reader})
    {
        if (*worker)
        {
            (*worker)->join();
        }
    }
    DWORD code = 0;
    if (::GetExitCodeProcess(process.get(), &code) == 0)
    {
        win32::throw_last_error(fmt::format("waiting for {}", argv.front()));
    }
    result.exit_code = static_cast<int>(code);
    return result;
}

} // namespace azl
