#!/usr/bin/env bash
# Build girfec as one self-contained Linux executable and pack it with the docs,
# examples and figure scripts, for machines without Swift, GSL or root.
#
#   bash scripts/package-binary.sh [OUT_DIR]       # default: dist
#
# The executable is linked statically (-static-executable: the Swift standard
# library, Foundation, Dispatch, GSL, Random123's Philox and the C library all
# inside it), so it needs nothing installed: copy it anywhere and run it. It
# is built once into .build/static (a scratch folder of its own, so the normal
# builds are untouched). Writes OUT_DIR/girfec-VERSION-linux-ARCH/ and
# OUT_DIR/girfec-VERSION-linux-ARCH.tar.gz, and prints their paths; building
# needs what scripts/install-dependencies.sh installs (GSL's static library
# comes with libgsl-dev). docs/install.md says how to use the archive.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist}"
bash scripts/install-dependencies.sh
scratch=.build/static
swift build -c release --product girfec --scratch-path "$scratch" -Xswiftc -static-executable
binary="$(swift build -c release --product girfec --scratch-path "$scratch" -Xswiftc -static-executable --show-bin-path)/girfec"
version="$("$binary" --version)"
name="girfec-${version}-linux-$(uname -m)"
stage="$out/$name"
rm -rf "$stage" "$out/$name.tar.gz"
mkdir -p "$stage/bin" "$stage/scripts"
cp "$binary" "$stage/bin/girfec"
strip "$stage/bin/girfec" 2>/dev/null || true
cp README.md "$stage/"
cp -R docs experiments calibration "$stage/"
cp scripts/figures.py scripts/uncertainty_figures.py scripts/calibration_figures.py scripts/install-python-deps.sh "$stage/scripts/"
cp -R scripts/girfec_py "$stage/scripts/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
cat > "$stage/INSTALL.txt" <<EOF
girfec $version, a self-contained Linux ($(uname -m)) executable: nothing else to install.

  ./bin/girfec validate experiments/default/scenario.yaml
  ./bin/girfec run experiments/default/scenario.yaml --replications 1000 --seed 20231129 --out runs/default

Copy bin/girfec anywhere on your PATH (e.g. ~/.local/bin) to use it from any folder.
The figure scripts need Python 3 with matplotlib and numpy (scripts/install-python-deps.sh).
Documentation: README.md and docs/ (docs/install.md for this archive).
EOF
tar -C "$out" -czf "$out/$name.tar.gz" "$name"
echo "package-binary: $stage"
echo "package-binary: $out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1))"
