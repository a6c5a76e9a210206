#!/bin/sh
# Rebuilds Token.bin/.abi and Forwarder.bin/.abi from their sources with
# solc-js 0.8.37 (npm package solc@0.8.37, optimizer on, 200 runs, EVM osaka).
# The build is deterministic: a rebuild gives the committed files byte for
# byte. Usage: ./compile.sh [--check]   (--check compares instead of writing)
# Needs node and npm; SOLC_DIR reuses an existing install of solc@0.8.37.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${SOLC_DIR:-}" ]; then
	SOLC_DIR=$(mktemp -d)
	trap 'rm -rf "$SOLC_DIR"' EXIT
fi
if [ ! -d "$SOLC_DIR/node_modules/solc" ]; then
	npm install --silent --no-audit --no-fund --prefix "$SOLC_DIR" solc@0.8.37 >/dev/null
fi
NODE_PATH="$SOLC_DIR/node_modules" node "$here/compile.cjs" "$@"
