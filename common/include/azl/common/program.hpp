#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace azl
{

// The program's arguments as UTF-8, argv[0] first. On Windows they are read with GetCommandLineW
// and CommandLineToArgvW: the ANSI argv main() gets cannot hold every file name. Elsewhere, argv.
std::vector<std::string> utf8_arguments(int argc, char** argv);

// Makes text the program prints reach the terminal as UTF-8: the console's output code page on
// Windows, LC_CTYPE C.UTF-8 (else the environment's) elsewhere. Executables call it once.
void setup_utf8_console();

// The running program's own file (/proc/self/exe; GetModuleFileNameW on Windows); empty when the
// system cannot tell. Programs find what ships beside them (guest programs, images) through it.
std::filesystem::path executable_path();

} // namespace azl
