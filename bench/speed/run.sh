#!/usr/bin/env bash
# The speed benchmark of issue 10: trains the CNN, the MLP, the VAE and the residual CNNs in
# edgetrain, PyTorch (each of its thread settings; its fastest is compared) and NNTrainer
# (when ../shared/peers/nntrainer or --nntrainer DIR exists), runs alternating in one
# invocation: a whole epoch at batch 64, then the first 6,000 images at batches 1 and 8,
# where framework overhead dominates. Prints samples/s, time per epoch, peak RSS, loss
# and accuracy of each, and edgetrain's ratios to each peer. edgetrain holds the data in
# memory here, as the PyTorch script does (bench/memory/run.sh streams it from disk).
# Usage: bench/speed/run.sh [--models cnn,mlp,vae,resnet] [--rounds N]
set -euo pipefail
compare="$(dirname "$0")/../compare/compare.py"
/usr/bin/python3 "$compare" --no-stream --batches 64 --models cnn,mlp,vae,resnet "$@"
/usr/bin/python3 "$compare" --no-stream --batches 1,8 --limit 6000 --models cnn,mlp,vae,resnet "$@"
