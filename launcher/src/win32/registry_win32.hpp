#pragma once
// The registry and known folders, for the launcher's Windows files: one RAII key type and one
// reader per value kind (the WSL backend's Lxss key, the host's settings, the policy layers).

#include <azl/common/c_ptr.hpp>
#include <azl/common/win32/win32.hpp> // <windows.h> first: the known-folder headers need it

#include <knownfolders.h>
#include <shlobj.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace azl::launcher::winreg
{

using RegKey = UniqueCPtr<HKEY__, &::RegCloseKey>;

// Opens `root`\`path`; nullopt when the key does not exist. Throws SystemError naming the key for
// any other failure (access denied, …).
std::optional<RegKey> open_key(HKEY root, const std::wstring& path, REGSAM access = KEY_READ);

// A REG_SZ or REG_EXPAND_SZ value (expanded); nullopt when missing or of another type.
std::optional<std::wstring> read_string(HKEY key, const wchar_t* name);

// A REG_DWORD value; nullopt when missing or of another type.
std::optional<DWORD> read_dword(HKEY key, const wchar_t* name);

// One value as `reg.exe query` shows it: its type's name and its data as text (REG_MULTI_SZ: each
// string; REG_DWORD/REG_QWORD: "0x…" in hex; REG_BINARY: hex digits), UTF-8.
struct ValueText
{
    std::string type;
    std::vector<std::string> items;
};

// Every value of `key` by name.
std::map<std::string, ValueText> read_values(HKEY key);

// A known folder (FOLDERID_Profile, FOLDERID_ProgramData, …); empty when Windows has none.
std::filesystem::path known_folder(REFKNOWNFOLDERID id);

} // namespace azl::launcher::winreg
