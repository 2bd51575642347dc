// libarchive, loaded the first time it is used instead of when a program starts.
//
// `azurelinux` starts on every `azurelinux run`. Linked against libarchive.so.13, each start paid
// the dynamic loader for mapping and relocating libarchive's dependency tree (libxml2, ICU, nettle,
// lz4, acl): about 8 ms of a 15 ms sandbox launch, in commands that never open an archive
// (bench/install.sh measures launch overhead). So no program links libarchive: every libarchive
// function the project calls is defined here, with the exact signature <archive.h> declares (the
// compiler rejects a mismatch), and forwards to the library, which is opened on first use.
// A function missing from this list is a link error, never a silent fallback.
#include <azl/common/error.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <dlfcn.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace
{

constexpr const char* kLibrary = "libarchive.so.13";

// The release functions run in destructors, which must not throw (UniqueCPtr's deleter is
// noexcept): they are looked up together with the library, before any handle can exist, so that
// releasing one never has to load anything.
struct Releasers
{
    decltype(&::archive_read_free) read_free = nullptr;
    decltype(&::archive_write_free) write_free = nullptr;
    decltype(&::archive_entry_free) entry_free = nullptr;
};

Releasers& releasers() noexcept
{
    static Releasers r;
    return r;
}

template <typename Function>
Function lookup(void* handle, const char* name)
{
    void* symbol = ::dlsym(handle, name);
    if (symbol == nullptr)
    {
        throw azl::UserError(
            fmt::format("{} has no function {}", kLibrary, name),
            "install libarchive 3.6 or newer (Debian: apt-get install libarchive13)");
    }
    return reinterpret_cast<Function>(symbol);
}

void* library()
{
    // NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): dlsym's handle
    static void* const handle = []
    {
        void* h = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr)
        {
            const char* why = ::dlerror();
            throw azl::UserError(
                fmt::format("cannot load {}: {}", kLibrary, why != nullptr ? why : "unknown error"),
                "install libarchive 3.6 or newer (Debian: apt-get install libarchive13)");
        }
        Releasers& r = releasers();
        r.read_free = lookup<decltype(&::archive_read_free)>(h, "archive_read_free");
        r.write_free = lookup<decltype(&::archive_write_free)>(h, "archive_write_free");
        r.entry_free = lookup<decltype(&::archive_entry_free)>(h, "archive_entry_free");
        return h;
    }();
    return handle;
}

template <typename Function>
Function resolve(const char* name)
{
    return lookup<Function>(library(), name);
}

} // namespace

// Defines NAME with <archive.h>'s signature; the real function is looked up once.
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): extern "C" definitions by name
#define AZL_ARCHIVE_FORWARD(ret, name, params, args)                                               \
    extern "C" ret name params                                                                     \
    {                                                                                              \
        static const auto real = resolve<decltype(&::name)>(#name);                                \
        return real args;                                                                          \
    }

AZL_ARCHIVE_FORWARD(struct archive_entry*, archive_entry_clear, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(__LA_MODE_T, archive_entry_filetype, (struct archive_entry * a0), (a0))

// A handle exists only once the library is loaded, and with it the release functions: these never
// throw (a null one cannot happen; it would leave the handle to the process's end).
extern "C" void archive_entry_free(struct archive_entry* a0)
{
    if (auto* real = releasers().entry_free; real != nullptr)
    {
        real(a0);
    }
}
AZL_ARCHIVE_FORWARD(la_int64_t, archive_entry_gid, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(const char*, archive_entry_gname, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(const char*, archive_entry_hardlink, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(time_t, archive_entry_mtime, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_entry_mtime_is_set, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(long, archive_entry_mtime_nsec, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(struct archive_entry*, archive_entry_new, (void), ())
AZL_ARCHIVE_FORWARD(const char*, archive_entry_pathname, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(const char*, archive_entry_pathname_utf8, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(__LA_MODE_T, archive_entry_perm, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(dev_t, archive_entry_rdevmajor, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(dev_t, archive_entry_rdevminor, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_filetype, (struct archive_entry * a0, unsigned int a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_gid, (struct archive_entry * a0, la_int64_t a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_gname, (struct archive_entry * a0, const char* a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_hardlink, (struct archive_entry * a0, const char* a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_mtime, (struct archive_entry * a0, time_t a1, long a2), (a0, a1, a2))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_pathname, (struct archive_entry * a0, const char* a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_perm, (struct archive_entry * a0, __LA_MODE_T a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_rdevmajor, (struct archive_entry * a0, dev_t a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_rdevminor, (struct archive_entry * a0, dev_t a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_size, (struct archive_entry * a0, la_int64_t a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_symlink, (struct archive_entry * a0, const char* a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_uid, (struct archive_entry * a0, la_int64_t a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    void, archive_entry_set_uname, (struct archive_entry * a0, const char* a1), (a0, a1))
AZL_ARCHIVE_FORWARD(la_int64_t, archive_entry_size, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_entry_size_is_set, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_entry_sparse_count, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(const char*, archive_entry_symlink, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(la_int64_t, archive_entry_uid, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(const char*, archive_entry_uname, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(
    void,
    archive_entry_xattr_add_entry,
    (struct archive_entry * a0, const char* a1, const void* a2, size_t a3),
    (a0, a1, a2, a3))
AZL_ARCHIVE_FORWARD(
    int,
    archive_entry_xattr_next,
    (struct archive_entry * a0, const char** a1, const void** a2, size_t* a3),
    (a0, a1, a2, a3))
AZL_ARCHIVE_FORWARD(int, archive_entry_xattr_reset, (struct archive_entry * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_errno, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(const char*, archive_error_string, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(la_int64_t, archive_filter_bytes, (struct archive * a0, int a1), (a0, a1))
AZL_ARCHIVE_FORWARD(int, archive_filter_code, (struct archive * a0, int a1), (a0, a1))
AZL_ARCHIVE_FORWARD(int, archive_filter_count, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(const char*, archive_filter_name, (struct archive * a0, int a1), (a0, a1))
AZL_ARCHIVE_FORWARD(const char*, archive_format_name, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(
    la_ssize_t, archive_read_data, (struct archive * a0, void* a1, size_t a2), (a0, a1, a2))
AZL_ARCHIVE_FORWARD(
    int,
    archive_read_data_block,
    (struct archive * a, const void** buff, size_t* size, la_int64_t* offset),
    (a, buff, size, offset))

extern "C" int archive_read_free(struct archive* a0)
{
    auto* real = releasers().read_free;
    return real != nullptr ? real(a0) : ARCHIVE_FATAL;
}
AZL_ARCHIVE_FORWARD(struct archive*, archive_read_new, (void), ())
AZL_ARCHIVE_FORWARD(
    int, archive_read_next_header, (struct archive * a0, struct archive_entry** a1), (a0, a1))
AZL_ARCHIVE_FORWARD(
    int,
    archive_read_open2,
    (struct archive * a0,
     void* _client_data,
     archive_open_callback* a2,
     archive_read_callback* a3,
     archive_skip_callback* a4,
     archive_close_callback* a5),
    (a0, _client_data, a2, a3, a4, a5))
AZL_ARCHIVE_FORWARD(
    int,
    archive_read_open_filename,
    (struct archive * a0, const char* _filename, size_t _block_size),
    (a0, _filename, _block_size))
AZL_ARCHIVE_FORWARD(int, archive_read_support_filter_all, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_read_support_filter_bzip2, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_read_support_filter_gzip, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_read_support_filter_xz, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_read_support_filter_zstd, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_read_support_format_raw, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_read_support_format_tar, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_write_add_filter_bzip2, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_write_add_filter_gzip, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_write_add_filter_xz, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_write_add_filter_zstd, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(int, archive_write_close, (struct archive * a0), (a0))
AZL_ARCHIVE_FORWARD(
    la_ssize_t, archive_write_data, (struct archive * a0, const void* a1, size_t a2), (a0, a1, a2))
AZL_ARCHIVE_FORWARD(
    la_ssize_t,
    archive_write_data_block,
    (struct archive * a0, const void* a1, size_t a2, la_int64_t a3),
    (a0, a1, a2, a3))
AZL_ARCHIVE_FORWARD(struct archive*, archive_write_disk_new, (void), ())
AZL_ARCHIVE_FORWARD(
    int, archive_write_disk_set_options, (struct archive * a0, int flags), (a0, flags))
AZL_ARCHIVE_FORWARD(int, archive_write_finish_entry, (struct archive * a0), (a0))

extern "C" int archive_write_free(struct archive* a0)
{
    auto* real = releasers().write_free;
    return real != nullptr ? real(a0) : ARCHIVE_FATAL;
}
AZL_ARCHIVE_FORWARD(
    int, archive_write_header, (struct archive * a0, struct archive_entry* a1), (a0, a1))
AZL_ARCHIVE_FORWARD(struct archive*, archive_write_new, (void), ())
AZL_ARCHIVE_FORWARD(
    int,
    archive_write_open,
    (struct archive * a0,
     void* a1,
     archive_open_callback* a2,
     archive_write_callback* a3,
     archive_close_callback* a4),
    (a0, a1, a2, a3, a4))
AZL_ARCHIVE_FORWARD(
    int,
    archive_write_set_bytes_in_last_block,
    (struct archive * a0, int bytes_in_last_block),
    (a0, bytes_in_last_block))
AZL_ARCHIVE_FORWARD(
    int,
    archive_write_set_bytes_per_block,
    (struct archive * a0, int bytes_per_block),
    (a0, bytes_per_block))
AZL_ARCHIVE_FORWARD(
    int,
    archive_write_set_format_option,
    (struct archive * _a, const char* m, const char* o, const char* v),
    (_a, m, o, v))
AZL_ARCHIVE_FORWARD(int, archive_write_set_format_pax_restricted, (struct archive * a0), (a0))

#undef AZL_ARCHIVE_FORWARD

// Variadic: formatted here, passed on as "%s".
// NOLINTNEXTLINE(readability-identifier-naming): <archive.h>'s parameter names
extern "C" void archive_set_error(struct archive* a, int _err, const char* fmt, ...)
{
    static const auto real = resolve<decltype(&::archive_set_error)>("archive_set_error");
    std::va_list list;
    va_start(list, fmt);
    std::va_list copy;
    va_copy(copy, list);
    const int size = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    std::string message(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
    if (size > 0)
    {
        // Cannot fail differently from the measuring call above: same format, same arguments.
        (void)std::vsnprintf(message.data(), message.size() + 1, fmt, list);
    }
    va_end(list);
    real(a, _err, "%s", message.c_str());
}
