#!/usr/bin/env bash
# The memory benchmark of issue 9: trains the CNN, the MLP, the VAE and a residual CNN in
# edgetrain (datasets streamed), PyTorch and NNTrainer (when ../shared/peers/nntrainer or
# --nntrainer DIR exists) in one run, then edgetrain again under a quarter of its planned
# arena with swap. Prints peak RSS, baseline RSS, training-only memory and their ratios.
# Usage: bench/memory/run.sh [--models cnn,mlp,vae,resnet] [--rounds N] [--epochs N]
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/../compare/compare.py" --swap "$@"
