# Warnings and sanitizers as INTERFACE targets that each of our targets links; never global flags,
# so third-party headers and CMake's own checks are not affected.
add_library(azl_warnings INTERFACE)
target_compile_options(azl_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                              -Wold-style-cast -Wcast-align)
# No -Wnull-dereference: at -O2 GCC 12 reports false positives inside CLI11 and libstdc++ inlined into our code.
if(AZL_WERROR)
    target_compile_options(azl_warnings INTERFACE -Werror)
endif()
add_library(azl::warnings ALIAS azl_warnings)

add_library(azl_sanitizers INTERFACE)
if(AZL_SANITIZE)
    target_compile_options(azl_sanitizers INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                    -fno-sanitize-recover=undefined)
    target_link_options(azl_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
if(AZL_FUZZ)
    # Every library gets libFuzzer's coverage instrumentation; only fuzz/ targets link its main.
    target_compile_options(azl_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()
add_library(azl::sanitizers ALIAS azl_sanitizers)

# azl_target_defaults(TARGET) — the warnings and sanitizers every one of our targets gets.
function(azl_target_defaults target)
    target_link_libraries(${target} PRIVATE azl::warnings)
    target_link_libraries(${target} PUBLIC azl::sanitizers)
endfunction()
