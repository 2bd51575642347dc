#include "registry_win32.hpp"

#include <azl/common/error.hpp>
#include <azl/common/win32/win32.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <cwchar>

namespace azl::launcher::winreg
{

namespace
{

std::string root_name(HKEY root)
{
    if (root == HKEY_LOCAL_MACHINE)
    {
        return "HKLM";
    }
    if (root == HKEY_CURRENT_USER)
    {
        return "HKCU";
    }
    return "HK?";
}

std::string hex(const unsigned char* data, DWORD size)
{
    std::string out;
    for (DWORD i = 0; i < size; ++i)
    {
        out += fmt::format("{:02X}", data[i]);
    }
    return out;
}

} // namespace

std::optional<RegKey> open_key(HKEY root, const std::wstring& path, REGSAM access)
{
    HKEY key = nullptr;
    const LSTATUS status = ::RegOpenKeyExW(root, path.c_str(), 0, access, &key);
    if (status == ERROR_FILE_NOT_FOUND || status == ERROR_PATH_NOT_FOUND)
    {
        return std::nullopt;
    }
    if (status != ERROR_SUCCESS)
    {
        throw win32::make_system_error(
            fmt::format("opening registry key {}\\{}", root_name(root), win32::to_utf8(path)),
            static_cast<DWORD>(status));
    }
    return RegKey(key);
}

std::optional<std::wstring> read_string(HKEY key, const wchar_t* name)
{
    DWORD bytes = 0;
    // REG_EXPAND_SZ values are expanded and come back as REG_SZ.
    const DWORD flags = RRF_RT_REG_SZ;
    if (::RegGetValueW(key, nullptr, name, flags, nullptr, nullptr, &bytes) != ERROR_SUCCESS)
    {
        return std::nullopt;
    }
    std::wstring value(bytes / sizeof(wchar_t) + 1, L'\0');
    bytes = static_cast<DWORD>(value.size() * sizeof(wchar_t));
    if (::RegGetValueW(key, nullptr, name, flags, nullptr, value.data(), &bytes) != ERROR_SUCCESS)
    {
        return std::nullopt;
    }
    value.resize(wcsnlen(value.c_str(), value.size()));
    return value;
}

std::optional<DWORD> read_dword(HKEY key, const wchar_t* name)
{
    DWORD value = 0;
    DWORD bytes = sizeof value;
    if (::RegGetValueW(key, nullptr, name, RRF_RT_REG_DWORD, nullptr, &value, &bytes)
        != ERROR_SUCCESS)
    {
        return std::nullopt;
    }
    return value;
}

std::map<std::string, ValueText> read_values(HKEY key)
{
    DWORD count = 0;
    DWORD longest_name = 0;
    DWORD largest_data = 0;
    if (::RegQueryInfoKeyW(
            key,
            nullptr,
            nullptr,
            nullptr,
            nullptr,
            nullptr,
            nullptr,
            &count,
            &longest_name,
            &largest_data,
            nullptr,
            nullptr)
        != ERROR_SUCCESS)
    {
        return {};
    }
    std::map<std::string, ValueText> values;
    std::wstring name(longest_name + 1, L'\0');
    // Whole wchar_t units, one more for a string stored without its terminator.
    std::vector<wchar_t> data(largest_data / sizeof(wchar_t) + 2, L'\0');
    for (DWORD i = 0; i < count; ++i)
    {
        auto name_size = static_cast<DWORD>(name.size());
        DWORD type = 0;
        DWORD data_size = largest_data;
        std::fill(data.begin(), data.end(), L'\0');
        if (::RegEnumValueW(
                key,
                i,
                name.data(),
                &name_size,
                nullptr,
                &type,
                reinterpret_cast<BYTE*>(data.data()),
                &data_size)
            != ERROR_SUCCESS)
        {
            continue; // changed under us; the next read sees it
        }
        ValueText v;
        const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
        switch (type)
        {
        case REG_SZ:
        case REG_EXPAND_SZ:
            v.type = type == REG_SZ ? "REG_SZ" : "REG_EXPAND_SZ";
            v.items.push_back(win32::to_utf8(data.data()));
            break;
        case REG_MULTI_SZ:
        {
            v.type = "REG_MULTI_SZ";
            const wchar_t* p = data.data();
            const wchar_t* end = data.data() + data_size / sizeof(wchar_t);
            while (p < end && *p != L'\0')
            {
                const std::wstring item(p);
                v.items.push_back(win32::to_utf8(item));
                p += item.size() + 1;
            }
            break;
        }
        case REG_DWORD:
        {
            DWORD d = 0;
            std::memcpy(&d, bytes, sizeof d);
            v.type = "REG_DWORD";
            v.items.push_back(fmt::format("0x{:x}", d));
            break;
        }
        case REG_QWORD:
        {
            unsigned long long q = 0;
            std::memcpy(&q, bytes, sizeof q);
            v.type = "REG_QWORD";
            v.items.push_back(fmt::format("0x{:x}", q));
            break;
        }
        default:
            v.type = type == REG_BINARY ? "REG_BINARY" : fmt::format("REG_TYPE_{}", type);
            v.items.push_back(hex(bytes, data_size));
            break;
        }
        values.emplace(win32::to_utf8(std::wstring(name.c_str(), name_size)), std::move(v));
    }
    return values;
}

std::filesystem::path known_folder(REFKNOWNFOLDERID id)
{
    PWSTR raw = nullptr;
    const HRESULT hr = ::SHGetKnownFolderPath(id, 0, nullptr, &raw);
    const UniqueCPtr<wchar_t, &::CoTaskMemFree> owned(raw);
    if (FAILED(hr) || raw == nullptr)
    {
        return {};
    }
    return {std::wstring(raw)};
}

} // namespace azl::launcher::winreg
