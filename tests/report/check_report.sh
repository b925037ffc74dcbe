#!/usr/bin/env bash
# The report in a browser: trains a tiny classifier on a generated image folder with
# --run-dir, writes its report, opens it in headless Chromium and checks that the page
# drew its charts (canvas elements, data-rendered="ok" on <body>, which the page sets
# only after everything is drawn and without an uncaught error or console.error), shows
# the confusion matrix and the test images; then the same for a VAE-like run folder
# (losses only). Saves screenshots beside the reports.
# Usage: check_report.sh EDGETRAIN_BINARY OUTPUT_DIR
# Exit codes: 0 passed, 1 failed, 77 skipped (no Chromium or no python3).
set -euo pipefail
edgetrain="$1"
out="$2"
# A cross build's CLI runs under its emulator (tests/CMakeLists.txt sets it, e.g.
# "qemu-aarch64 -L /"; word splitting intended); natively it is empty.
read -r -a emulator <<<"${EDGETRAIN_CLI_EMULATOR:-}"
run_cli() { "${emulator[@]}" "$edgetrain" "$@"; }

chromium=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then chromium="$(command -v "$candidate")"; break; fi
done
if [ -z "$chromium" ]; then
  echo "SKIPPED: no Chromium (apt-get install chromium) to open the report in"
  exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIPPED: python3 is needed to write the test images"
  exit 77
fi

rm -rf "$out"
mkdir -p "$out"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT

fail() { echo "FAILED: $*"; exit 1; }

# 8x8 RGB PNGs, 20 per class, mostly red, green or blue with noise.
python3 - "$out/colours" <<'PYTHON'
import os, random, struct, sys, zlib
root = sys.argv[1]
random.seed(3)
def png(path, pixels):
    raw = b"".join(b"\0" + bytes(row) for row in pixels)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for colour, name in enumerate(["red", "green", "blue"]):
    os.makedirs(os.path.join(root, name))
    for i in range(20):
        rows = [[random.randint(150, 255) if c == colour else random.randint(0, 80)
                 for x in range(8) for c in range(3)] for y in range(8)]
        png(os.path.join(root, name, "%02d.png" % i), rows)
PYTHON

cat > "$out/colours.ini" <<'INI'
[Model]
Loss = cross
Epochs = 3
Batch_Size = 8
seed = 4

[Optimizer]
Type = adam
Learning_rate = 0.05

[LearningRateScheduler]
Type = step
milestones = 4, 8
gamma = 0.5

[train_set]
Type = image_folder
path = colours
validation_split = 0.2
test_split = 0.3

[input]
Type = input
Input_Shape = 3:8:8
Flatten = true

[out]
Type = fully_connected
Unit = 3
Activation = softmax
INI

run_cli train "$out/colours.ini" --run-dir "$out/run" --no-progress >"$out/train.log" 2>&1 ||
  fail "edgetrain train (see $out/train.log)"
for file in settings.ini metrics.csv eval.json memory.csv predictions.json split.txt train.json; do
  [ -f "$out/run/$file" ] || fail "the run folder has no $file"
done
run_cli report "$out/run" >/dev/null || fail "edgetrain report"

# A VAE's folder: losses only, no accuracy, no test evaluation.
mkdir -p "$out/vae_run"
printf 'epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds,samples_per_second\n1,120.5,,118.2,,0.001,1,500\n2,110.1,,109.9,,0.001,1,500\n' \
  >"$out/vae_run/metrics.csv"
run_cli report "$out/vae_run" >/dev/null || fail "edgetrain report of the VAE folder"

# render REPORT MIN_CANVASES: the page in headless Chromium, its DOM checked.
render() {
  local report="$1" min_canvases="$2"
  local dom="${report%.html}.dom.html"
  local flags=(--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$profile"
               --virtual-time-budget=5000 --window-size=1200,2400)
  timeout 60 "$chromium" "${flags[@]}" --dump-dom "file://$report" >"$dom" 2>/dev/null ||
    fail "chromium could not open $report"
  grep -q 'data-rendered="ok"' "$dom" ||
    fail "$report did not finish drawing: $(grep -o '<div id="report-error"[^<]*' "$dom" || true)"
  local canvases
  canvases="$(grep -o '<canvas' "$dom" | wc -l)"
  [ "$canvases" -ge "$min_canvases" ] || fail "$report has $canvases charts, expected $min_canvases"
  timeout 60 "$chromium" "${flags[@]}" --screenshot="${report%.html}.png" "file://$report" \
    >/dev/null 2>&1 || fail "chromium could not take a screenshot of $report"
  echo "$report: rendered, $canvases charts; screenshot ${report%.html}.png"
}

render "$out/run/report.html" 3  # loss, accuracy, learning rate
dom="$out/run/report.dom.html"
grep -q 'class="heatmap"' "$dom" || fail "no confusion matrix heat map"
grep -q '<img src="data:image/png;base64,' "$dom" || fail "no test images"
grep -q 'predicted: ' "$dom" || fail "no predicted labels"
render "$out/vae_run/report.html" 2  # loss, learning rate
if grep -q 'class="heatmap"' "$out/vae_run/report.dom.html"; then fail "a VAE report with a confusion matrix"; fi
echo "PASSED"
