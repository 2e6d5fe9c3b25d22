#!/usr/bin/env bash
# The one prepared check for a lent GPU machine (the `device` tool): CUDA build, the test suite,
# bench/gpu_bench.py, all inside one time budget, every log kept under $OUT.
#
# The GPU image has CUDA, nvcc, CMake, ninja and a CUDA PyTorch, but none of genolm's Debian
# libraries and no network. So they travel as Debian packages, unpacked into a private prefix
# (never into /):
#   here:   bench/gpu_check.sh fetch      # apt-get download into .gpudeps/ (git-ignored)
#   there:  bench/gpu_check.sh run [BUDGET_S]   # with carry [".gpudeps", ".cache/genomes"]
# Stages run in priority order (build, tests, benchmark); each is cut to the time left, so a
# slow build still leaves its logs, and a rerun on the still-warm machine resumes the build.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libcli11-dev libtomlplusplus-dev
  libtomlplusplus3 nlohmann-json3-dev libcsv-dev libcsv3 libsentencepiece-dev libsentencepiece0
  zlib1g-dev libgtest-dev googletest libssl-dev libssl3
  libhts-dev libhts3 libhtscodecs2 libdeflate-dev libdeflate0 libcurl3-gnutls)

if [ "${1:-}" = fetch ]; then
  mkdir -p .gpudeps && (cd .gpudeps && apt-get download "${packages[@]}")
  exit
fi
[ "${1:-}" = run ] || { echo "usage: $0 fetch | run [BUDGET_S]" >&2; exit 2; }

budget=${2:-560}
start=$(date +%s)
out=${OUT:-/tmp/gpu_check}
mkdir -p "$out"
exec > >(tee -a "$out/check.log") 2>&1
left() { echo $((budget - ($(date +%s) - start))); }
stage() { echo; echo "=== $* (t=$(($(date +%s) - start)) s, $(left) s left)"; }

stage "machine"
deps=/tmp/gpudeps
mkdir -p "$deps"
for f in .gpudeps/*.deb; do dpkg -x "$f" "$deps"; done
export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# htslib is found by pkg-config, whose .pc files name /usr: read them inside the unpacked prefix.
export PKG_CONFIG_PATH="$deps/usr/lib/x86_64-linux-gnu/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$deps"
export PATH="/usr/local/cuda/bin:$PATH"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
head -2 /etc/os-release
g++ --version | head -1
cmake --version | head -1
nvcc --version | tail -1
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda,
  "cudnn", torch.backends.cudnn.version(), torch.cuda.get_device_name())'
nproc

stage "configure"
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
if [ ! -f build-cuda/build.ninja ]; then
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
    >"$out/configure.log" 2>&1
  rc=$?
  tail -25 "$out/configure.log"
  [ $rc -eq 0 ] || { echo "configure failed ($rc)"; exit 1; }
fi

stage "build"
timeout $(($(left) - 200)) cmake --build build-cuda -j "$(nproc)" -- -k 0 >"$out/build.log" 2>&1
rc=$?
grep -E "error:|FAILED:|undefined reference" "$out/build.log" | head -60
tail -3 "$out/build.log"
echo "build exit $rc"
[ $rc -eq 0 ] || exit 1
ldd build-cuda/genolm-train | grep -E "torch|c10|spm|sentencepiece" || true

stage "tests"
timeout $(($(left) < 130 ? $(left) - 30 : 100)) \
  ctest --test-dir build-cuda -j "$(nproc)" --timeout 90 >"$out/ctest.log" 2>&1
echo "ctest exit $?"
grep -E "tests passed|Failed|\*\*\*|Timeout|Not Run" "$out/ctest.log" | head -40

stage "gpu_bench"
PYTHONUNBUFFERED=1 timeout $(($(left) - 10)) python3 bench/gpu_bench.py --no-build \
  --build-dir build-cuda --repeats 1 --steps "${GPU_BENCH_STEPS:-30}" --peak-sizes 8192 \
  --timeout 150 --out "$out/gpu_bench.json" ${GPU_BENCH_ARGS:-}
echo "gpu_bench exit $?"
stage "done"
