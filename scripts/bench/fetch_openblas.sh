#!/usr/bin/env bash
# Fetches Debian's libopenblas0-pthread into a cache folder, without installing it (the system's BLAS alternative
# is left alone): scripts/bench/pytorch.ts puts the unpacked folder on LD_LIBRARY_PATH for the PyTorch peer only, so
# Debian's python3-torch runs on OpenBLAS instead of the reference BLAS it links by default (0.4 ms against 50 ms
# for a 128×784×256 GEMM on one core). Prints the folder. Needs apt-get (Debian) and the package lists.
set -euo pipefail
dest="${NORMCHECK_OPENBLAS_CACHE:-$HOME/.cache/normcheck/openblas}"
mkdir -p "$dest"
cd "$dest"
ls libopenblas0-pthread_*.deb >/dev/null 2>&1 || apt-get download libopenblas0-pthread
dpkg-deb -x libopenblas0-pthread_*.deb root
echo "$dest/root/usr/lib/x86_64-linux-gnu/openblas-pthread"
