#include <azl/common/error.hpp>
#include <azl/common/progress.hpp>
#include <azl/common/win32/win32.hpp>

#include <fmt/format.h>

#include <bcrypt.h>

#include <array>
#include <memory>
#include <vector>

// SHA-256 through Windows' own CNG (bcrypt.dll): the Windows launcher carries no OpenSSL.

namespace azl::win32
{

namespace
{

struct AlgorithmCloser
{
    void operator()(void* h) const noexcept
    {
        ::BCryptCloseAlgorithmProvider(h, 0);
    }
};

struct HashDestroyer
{
    void operator()(void* h) const noexcept
    {
        ::BCryptDestroyHash(h);
    }
};

void check_nt(NTSTATUS status, const std::string& what)
{
    if (!BCRYPT_SUCCESS(status))
    {
        throw SystemError(
            what, fmt::format("BCrypt status 0x{:08x}", static_cast<unsigned long>(status)));
    }
}

} // namespace

std::string sha256_file(const std::filesystem::path& file, ProgressMode progress_mode)
{
    const std::string name = to_utf8(file.wstring());
    const std::string what = fmt::format("computing the SHA-256 of {}", name);
    BCRYPT_ALG_HANDLE alg_raw = nullptr;
    check_nt(::BCryptOpenAlgorithmProvider(&alg_raw, BCRYPT_SHA256_ALGORITHM, nullptr, 0), what);
    const std::unique_ptr<void, AlgorithmCloser> alg(alg_raw);
    BCRYPT_HASH_HANDLE hash_raw = nullptr;
    check_nt(::BCryptCreateHash(alg.get(), &hash_raw, nullptr, 0, nullptr, 0, 0), what);
    const std::unique_ptr<void, HashDestroyer> hash(hash_raw);

    const UniqueHandle handle(::CreateFileW(
        file.c_str(),
        GENERIC_READ,
        FILE_SHARE_READ,
        nullptr,
        OPEN_EXISTING,
        FILE_FLAG_SEQUENTIAL_SCAN,
        nullptr));
    if (!handle)
    {
        throw UserError(
            fmt::format("cannot read {}: {}", name, error_message(::GetLastError())),
            "check the path and that your Windows user can read the file");
    }
    LARGE_INTEGER size = {};
    ::GetFileSizeEx(handle.get(), &size);
    Progress progress(
        fmt::format("Checking {}", to_utf8(file.filename().wstring())),
        static_cast<std::uint64_t>(size.QuadPart),
        progress_mode);
    std::vector<UCHAR> buf(1U << 20U);
    for (;;)
    {
        DWORD n = 0;
        if (::ReadFile(handle.get(), buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr) == 0)
        {
            throw_last_error(what);
        }
        if (n == 0)
        {
            break;
        }
        check_nt(::BCryptHashData(hash.get(), buf.data(), n, 0), what);
        progress.advance(n);
    }
    std::array<UCHAR, 32> digest{};
    check_nt(
        ::BCryptFinishHash(hash.get(), digest.data(), static_cast<ULONG>(digest.size()), 0), what);
    std::string hex;
    for (const UCHAR b : digest)
    {
        hex += fmt::format("{:02x}", b);
    }
    return hex;
}

} // namespace azl::win32
