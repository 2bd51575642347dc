# azl::engine_libs — the C libraries of the image engine, linked so that a program start costs
# nothing for them.
#
# `azurelinux` starts on every `azurelinux run`, and the dynamic loader's work for shared libraries
# (mapping, relocating, resolving symbols) was most of a 15 ms sandbox launch (bench/install.sh):
# - libarchive (and its tree: libxml2, ICU, nettle, lz4, acl) is not linked at all: it is opened on
#   first use by rootfs/src/libarchive_loader.cpp. Only its headers are used here.
# - libcrypto and the compressors xz, libdeflate and zlib come from the Debian packages' static
#   archives (AZL_STATIC_ENGINE, the default outside sanitizer builds): a static archive adds only
#   the objects we call (SHA-256, the encoders and decoders) and no start-up work. libzstd stays
#   shared: Debian's libzstd.a is built without multi-threading (ZSTD_c_nbWorkers is refused).
# The guest programs do not use this: they run on the distribution's libcrypto.so.3, which receives
# its security updates.
option(AZL_STATIC_ENGINE "Link libcrypto and the compressors statically into host programs" ON)

add_library(azl_engine_libs INTERFACE)
target_include_directories(azl_engine_libs INTERFACE ${LIBARCHIVE_INCLUDE_DIRS})
if(AZL_STATIC_ENGINE AND NOT AZL_SANITIZE)
    foreach(lib lzma deflate z crypto)
        string(TOUPPER "${lib}" var)
        find_library(AZL_STATIC_${var} NAMES lib${lib}.a)
        if(NOT AZL_STATIC_${var})
            message(FATAL_ERROR "lib${lib}.a not found: install the -dev packages with "
                "scripts/install-deps.sh, or configure with -DAZL_STATIC_ENGINE=OFF")
        endif()
        target_link_libraries(azl_engine_libs INTERFACE "${AZL_STATIC_${var}}")
    endforeach()
    target_link_libraries(azl_engine_libs INTERFACE PkgConfig::ZSTD)
    target_include_directories(azl_engine_libs INTERFACE
        ${LZMA_INCLUDE_DIRS} ${LIBDEFLATE_INCLUDE_DIRS} ${ZLIB_INCLUDE_DIRS}
        ${OPENSSL_INCLUDE_DIR})
else()
    target_link_libraries(azl_engine_libs INTERFACE
        PkgConfig::ZSTD PkgConfig::ZLIB PkgConfig::LIBDEFLATE PkgConfig::LZMA OpenSSL::Crypto)
endif()
target_link_libraries(azl_engine_libs INTERFACE Threads::Threads ${CMAKE_DL_LIBS})
add_library(azl::engine_libs ALIAS azl_engine_libs)
