#!/usr/bin/env bash
# The VAE benchmark: edgetrain's CLI against PyTorch, 2 epochs of Fashion-MNIST each.
# Usage: bench/vae/run.sh [--rounds N] [--epochs N]   (after building into build/)
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$@"
