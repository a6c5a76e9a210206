#!/usr/bin/env bash
# make bench: generate a chain of BENCH_TXS transactions (default 1,000,000;
# cached in .bench/), then in the same run import it with the peer — btcd's
# own transaction and address indexes (bench/btcdpeer) — and with Vestigo,
# and print both with their ratios. Results are kept in .bench/results/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
TXS=${BENCH_TXS:-1000000}
SEED=${BENCH_SEED:-42}
V="$ROOT/bin/vestigo"
DIR="$ROOT/.bench"
CHAIN="$DIR/chain-$TXS-seed$SEED"
RESULTS="$DIR/results"
mkdir -p "$DIR" "$RESULTS"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB, $(go version)"
if [ ! -f "$CHAIN/generated.json" ]; then
	echo "generating a chain of $TXS transactions into $CHAIN (once; kept for later runs)"
	rm -rf "$CHAIN"
	"$V" generate btc --out "$CHAIN" --seed "$SEED" --txs "$TXS"
fi

echo "building the peer (bench/btcdpeer)"
(cd "$ROOT/bench/btcdpeer" && go build -o "$DIR/btcdpeer" .)

stamp=$(date -u +%Y%m%dT%H%M%SZ)
echo "peer: btcd indexers over ffldb"
"$DIR/btcdpeer" -blocks "$CHAIN" -network regtest -json >"$RESULTS/$stamp-btcd.json"
echo "vestigo: import, compaction, scan"
"$V" bench import --blocks "$CHAIN" --json >"$RESULTS/$stamp-vestigo.json"
echo
"$V" bench compare --ours "$RESULTS/$stamp-vestigo.json" --peer "$RESULTS/$stamp-btcd.json"
echo
echo "results: $RESULTS/$stamp-*.json"
