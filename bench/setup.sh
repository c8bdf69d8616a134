#!/usr/bin/env bash
# Create bench/.venv with the benchmark's peers:
#   - llama-cpp-python[server]  (source build, 6-9 min on 2 cores: no wheel on PyPI)
#   - xllamacpp                 (prebuilt abi3 wheel)
#   - httpx                     (streaming HTTP client)
#   - litellm[proxy]            (only with `relay`: the peer of bench/relay.py)
# Usage: bash bench/setup.sh         (idempotent; re-running skips what is installed)
#        bash bench/setup.sh relay   (only what bench/relay.py needs: httpx, uvicorn, litellm)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet -U pip wheel setuptools
fi

if [ "${1:-}" = "relay" ]; then
    "$venv/bin/pip" install --quiet httpx uvicorn starlette 'litellm[proxy]'
    # litellm fetches a price list from the internet at import unless told not to.
    LITELLM_LOCAL_MODEL_COST_MAP=True "$venv/bin/python" -c "import litellm.proxy.proxy_server; from importlib.metadata import version; print('litellm', version('litellm'))"
    exit 0
fi

"$venv/bin/pip" install --quiet httpx xllamacpp

# -march=native would compile llama.cpp's AMX kernels wherever the CPU reports AMX; on VMs
# that report it without letting a process use it, the first generation dies of a general
# protection fault in libggml-cpu (seen on this machine, 2026-11-29). So: every vector
# extension up to AVX-512, no AMX.
CPU_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
CPU_FLAGS+=" -DGGML_BMI2=ON -DGGML_AVX_VNNI=ON"
if grep -q avx512f /proc/cpuinfo; then
    CPU_FLAGS+=" -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON"
fi

# REBUILD=1 builds it again over an existing install (its dependencies stay).
again=()
if [ "${REBUILD:-}" = 1 ]; then again=(--force-reinstall --no-deps); fi
if ! "$venv/bin/python" -c "import llama_cpp.server" 2>/dev/null || [ ${#again[@]} -gt 0 ]; then
    echo "building llama-cpp-python from source (6-9 minutes on 2 cores)..." >&2
    CMAKE_ARGS="${CMAKE_ARGS:-$CPU_FLAGS}" \
        CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$venv/bin/pip" install --no-cache-dir "${again[@]}" 'llama-cpp-python[server]'
fi
"$venv/bin/python" -c "import llama_cpp, xllamacpp, httpx; print('llama_cpp', llama_cpp.__version__)"
