# Cross-compiling edgetrain for 64-bit ARM Linux with Debian's cross compiler
# (g++-aarch64-linux-gnu) against the arm64 multiarch -dev packages, with the test binaries
# run under qemu-user. tools/cross_test_aarch64.sh installs all of it and uses this file:
#   cmake -S . -B build-aarch64 -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(EDGETRAIN_TRIPLET aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${EDGETRAIN_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${EDGETRAIN_TRIPLET}-g++)

# Headers and libraries: Debian's multiarch paths for arm64 (libopenblas-dev:arm64 ...) and
# the cross toolchain's own sysroot. Programs (cmake's helpers, pkg-config) stay the host's.
set(CMAKE_FIND_ROOT_PATH /usr/${EDGETRAIN_TRIPLET} /usr/lib/${EDGETRAIN_TRIPLET})
set(CMAKE_LIBRARY_ARCHITECTURE ${EDGETRAIN_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# BOTH, not ONLY: the multiarch files live under the host's /usr (/usr/lib/aarch64-linux-gnu,
# /usr/include, /usr/lib/aarch64-linux-gnu/cmake/GTest), which a re-rooted search misses;
# CMAKE_LIBRARY_ARCHITECTURE keeps the library search on the arm64 directories.
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config (OpenBLAS) reads only the arm64 .pc files and the architecture-free ones.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${EDGETRAIN_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# ctest and gtest_discover_tests run the arm64 binaries under qemu's user-mode emulator.
# Its library prefix is / (the arm64 multiarch dynamic loader /lib/ld-linux-aarch64.so.1 and
# libc of libc6:arm64, which the arm64 -dev packages pull in), not the cross toolchain's
# /usr/aarch64-linux-gnu: that loader (libc6-arm64-cross) is a different build of glibc from
# the libc.so.6 that the loader then finds in /usr/lib/aarch64-linux-gnu (OpenBLAS's rpath,
# ld.so.cache), and the mismatched pair hangs in pthread_create when OpenBLAS starts its
# threads. Both builds are glibc 2.36, so binaries linked against either run on either.
find_program(EDGETRAIN_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(EDGETRAIN_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EDGETRAIN_QEMU_AARCH64};-L;/)
endif()
