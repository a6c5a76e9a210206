# bench-data.sh, sourced by the bench scripts: generates the benchmark chain
# of BENCH_TXS transactions (default 1,000,000) once into .bench/chain-…,
# imports it once into .bench/data-…, and sets ROOT, V, DIR, CHAIN, DATA,
# RESULTS and PY for the caller.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
TXS=${BENCH_TXS:-1000000}
SEED=${BENCH_SEED:-42}
V="$ROOT/bin/vestigo"
DIR="$ROOT/.bench"
CHAIN="$DIR/chain-$TXS-seed$SEED"
DATA="$DIR/data-$TXS-seed$SEED"
RESULTS="$DIR/results"
PY=/usr/bin/python3
mkdir -p "$DIR" "$RESULTS"
"$ROOT/scripts/tools.sh" pypeers
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB, $(go version)"
if [ ! -f "$CHAIN/generated.json" ]; then
	echo "generating a chain of $TXS transactions into $CHAIN (once; kept for later runs)"
	rm -rf "$CHAIN"
	"$V" generate btc --out "$CHAIN" --seed "$SEED" --txs "$TXS"
fi
if [ ! -f "$DATA/.imported" ]; then
	echo "importing it into $DATA (once)"
	rm -rf "$DATA"
	"$V" --data "$DATA" import btc --blocks "$CHAIN" --json >/dev/null
	touch "$DATA/.imported"
fi

# timed NAME CMD…: runs CMD with its stdout in $out/NAME.json and its wall
# time and peak RSS in $out/NAME.time.
timed() {
	local name=$1
	shift
	/usr/bin/time -f '{"wall_seconds": %e, "peak_rss_kib": %M}' -o "$out/$name.time" "$@" >"$out/$name.json"
}
