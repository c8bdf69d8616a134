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

if ! "$venv/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
    echo "building llama-cpp-python from source (6-9 minutes on 2 cores)..." >&2
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$venv/bin/pip" install --no-cache-dir 'llama-cpp-python[server]'
fi
"$venv/bin/python" -c "import llama_cpp, xllamacpp, httpx; print('llama_cpp', llama_cpp.__version__)"
