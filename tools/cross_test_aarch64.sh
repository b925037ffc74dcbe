#!/usr/bin/env bash
# Cross-builds edgetrain (library, CLI, tests) for aarch64 with Debian's cross compiler and
# runs the test suite under qemu-user, on an x86_64 Debian 12 machine.
#
# Installs what is missing (root or sudo; packages already installed are not fetched again):
# the arm64 architecture for dpkg, g++-aarch64-linux-gnu, qemu-user (qemu-aarch64) and the
# arm64 multiarch -dev packages. Builds into build-aarch64/ with
# cmake/toolchains/aarch64-linux-gnu.cmake and runs `ctest -LE bench` (the bench label is a
# Python harness that needs native binaries). Exits non-zero when anything fails.
#
# Usage: bash tools/cross_test_aarch64.sh [--jobs N] [--filter REGEX] [--label LABEL]
#                                         [--build-dir DIR] [--no-install]
#   --jobs N        build and test jobs (default 2)
#   --filter REGEX  run only the tests whose names match (ctest -R)
#   --label LABEL   run only the tests with a label matching LABEL (ctest -L), e.g. aarch64_ci
#   --build-dir DIR build directory (default build-aarch64)
#   --no-install    do not touch packages, only build and test
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=2
filter=""
label=""
build_dir=build-aarch64
install=1
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --filter) filter="$2"; shift 2 ;;
    --label) label="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-install) install=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "cross_test_aarch64.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

start=$SECONDS
elapsed() { echo "$(( (SECONDS - $1) / 60 ))m$(( (SECONDS - $1) % 60 ))s"; }

if [ "$install" -eq 1 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  update=0
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "Adding the arm64 architecture to dpkg"
    $sudo_cmd dpkg --add-architecture arm64
    update=1
  fi
  # Host tools, then the arm64 packages (Multi-Arch: same, co-installable with the amd64
  # ones). libcli11-dev is Architecture: all, Multi-Arch: foreign: the host's serves arm64
  # too. libstb-dev is compiled in (stb_image_write), so it is the arm64 one. The tests run
  # on the arm64 multiarch runtime (libc6, libstdc++6, libgomp1 :arm64; see the toolchain
  # file), not on the cross toolchain's copies under /usr/aarch64-linux-gnu.
  packages=(g++-aarch64-linux-gnu qemu-user cmake ninja-build ccache pkg-config libcli11-dev
            libopenblas-dev:arm64 zlib1g-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64
            libstb-dev:arm64 libc6:arm64 libstdc++6:arm64 libgomp1:arm64)
  missing=()
  for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    update=1
    echo "Installing: ${missing[*]}"
  fi
  [ "$update" -eq 1 ] && $sudo_cmd apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || {
  echo "cross_test_aarch64.sh: no qemu-aarch64 (apt-get install qemu-user)" >&2
  exit 1
}

echo "== configure $build_dir"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/aarch64-linux-gnu.cmake" \
      -DEDGETRAIN_BUILD_BENCH=OFF -DEDGETRAIN_BUILD_TESTS=ON >/dev/null
build_start=$SECONDS
echo "== build ($jobs jobs)"
ninja -C "$build_dir" -j "$jobs"
echo "== build took $(elapsed "$build_start")"

test_start=$SECONDS
ctest_args=(--test-dir "$build_dir" --output-on-failure -j "$jobs" -LE bench)
[ -n "$filter" ] && ctest_args+=(-R "$filter")
[ -n "$label" ] && ctest_args+=(-L "$label")
echo "== ctest under qemu-aarch64: ${ctest_args[*]}"
status=0
ctest "${ctest_args[@]}" || status=$?
echo "== tests took $(elapsed "$test_start"), all $(elapsed "$start")"
exit "$status"
