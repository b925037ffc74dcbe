#!/usr/bin/env bash
# Sets up a fresh Debian machine for edgetrain and builds it into build/.
# Idempotent: packages already installed are not fetched again. libbenchmark-dev is for
# the benchmarks in bench/ (built when CMake finds it); time (GNU time) measures the peak RSS
# of the runs bench/compare/compare.py compares; chromium and python3 are for the test that
# opens an `edgetrain report` page in a headless browser (tests/report/check_report.sh).
# Usage: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build ccache pkg-config libopenblas-dev libgtest-dev libgmock-dev
          zlib1g-dev libcli11-dev libstb-dev libbenchmark-dev dataset-fashion-mnist time
          chromium python3)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build
