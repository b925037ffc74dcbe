#!/usr/bin/env bash
# Regenerates every golden file under tests/golden/ with Debian's python3-torch.
# Usage: tools/golden/generate.sh            (needs: apt-get install python3-torch)
set -euo pipefail
cd "$(dirname "$0")"
for script in gen_*.py; do
  /usr/bin/python3 "$script"
done
