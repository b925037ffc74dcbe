#!/usr/bin/env bash
# Which loops of the hot kernels GCC vectorizes, for x86-64 (the native compiler) and for
# aarch64 (Debian's g++-aarch64-linux-gnu, NEON), with the flags of the real build: the
# portable C++ loops are the only path, so a loop that vectorizes on one and not on the
# other shows here. Compiles each file on its own (no linking, nothing run) and prints one
# line per vectorized loop, source line first, then a count per file and target.
# Usage: tools/vectorization_report.sh [BUILD_DIR]     (needs BUILD_DIR/compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
commands="$build_dir/compile_commands.json"
[ -f "$commands" ] || { echo "error: $commands not found (configure with CMake first)" >&2; exit 1; }

files=(src/kernels/elementwise.cpp src/kernels/im2col.cpp src/kernels/gemm.cpp
       src/layers/activation_functions.cpp src/layers/batch_normalization.cpp
       src/layers/pooling2d.cpp src/layers/losses/cross_entropy.cpp
       src/layers/losses/vae_loss.cpp src/optim/adam.cpp src/optim/sgd.cpp)
compilers=("x86-64:g++")
if command -v aarch64-linux-gnu-g++ >/dev/null; then
  compilers+=("aarch64:aarch64-linux-gnu-g++")
else
  echo "note: aarch64-linux-gnu-g++ not found (apt-get install g++-aarch64-linux-gnu); x86-64 only" >&2
fi
# cblas.h for the cross compiler when libopenblas-dev:arm64 is not installed: the header
# is the same on both targets.
host_blas_include="$(pkg-config --cflags-only-I openblas 2>/dev/null || true)"

flags_of() {  # the build's flags for one source file, without compiler, -o and -c
  /usr/bin/python3 - "$commands" "$1" <<'EOF'
import json, shlex, sys
entries = json.load(open(sys.argv[1]))
entry = next(e for e in entries if e["file"].endswith(sys.argv[2]))
args = shlex.split(entry["command"])
while args and not args[0].startswith("-"):  # launcher (ccache) and compiler
    args.pop(0)
out, skip = [], False
for a in args:
    if skip:
        skip = False
        continue
    if a in ("-o", "-c", "-MF", "-MT"):
        skip = True
        continue
    if a.startswith("-M") or a.endswith(".cpp"):
        continue
    out.append(a)
print(" ".join(shlex.quote(a) for a in out))
EOF
}

for entry in "${compilers[@]}"; do
  target="${entry%%:*}" compiler="${entry#*:}"
  echo "== $target ($compiler)"
  for file in "${files[@]}"; do
    flags="$(flags_of "$file")"
    [ "$target" = aarch64 ] && flags="$flags $host_blas_include"
    # shellcheck disable=SC2086
    report="$(cd "$build_dir" && eval "$compiler" $flags -fopt-info-vec-optimized -c \
      "$OLDPWD/$file" -o /dev/null 2>&1 | grep -F "$(basename "$file")" | grep "loop vectorized" |
      sed -E 's|^.*/([^/]+):([0-9]+):[0-9]+: optimized: loop vectorized using ([0-9]+) byte vectors.*|\1:\2 \3-byte|' |
      sort -t: -k2,2n -u)" || true
    count=$(printf '%s' "$report" | grep -c . || true)
    echo "-- $file: $count vectorized loop(s)"
    [ -n "$report" ] && printf '%s\n' "$report" | sed 's/^/   /'
  done
done
