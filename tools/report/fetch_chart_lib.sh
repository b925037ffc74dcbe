#!/usr/bin/env bash
# Reproduces third_party/uplot/: the minified browser build of uPlot (the charts of
# `edgetrain report`), its stylesheet and its licence, from the npm registry with
# `npm pack`. The build embeds these files into the edgetrain library, so a report opens
# without a network. Usage: bash tools/report/fetch_chart_lib.sh [VERSION]
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${1:-1.6.32}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "uplot@$version" >/dev/null)
tar -xzf "$work/uplot-$version.tgz" -C "$work"
destination=third_party/uplot
mkdir -p "$destination"
cp "$work/package/dist/uPlot.iife.min.js" "$work/package/dist/uPlot.min.css" \
   "$work/package/LICENSE" "$destination/"
echo "$version" > "$destination/VERSION"
echo "uPlot $version written to $destination/"
