#!/usr/bin/env bash
# make bench-eth: the Ethereum import at scale. Starts geth --dev (archive
# mode, as internal/gethtest runs it, in a temporary directory, HTTP JSON-RPC
# on 127.0.0.1 at a port of its choosing), fills it with a generated chain of
# BENCH_ETH_TXS transactions (default 100,000; seed BENCH_SEED, default 42:
# ether transfers between a few thousand accounts, ERC-20 transfers and
# contract calls with internal transfers; `vestigo bench eth generate`), then
# in the same run:
#   - the peer, the node alone: `vestigo bench eth fetch` fetches every block
#     with its receipts and call traces on the import's number of workers
#     (BENCH_ETH_WORKERS, default 4), decodes and checks them, writes nothing;
#   - `vestigo import eth --json` into a fresh data directory, under
#     /usr/bin/time for peak RSS, then du of DATA/index/evm-1337;
#   - the fetch again (the import's ratio is taken against it: both ran on a
#     warm node), and, unless BENCH_ETH_ONE=0, both again with one worker.
# Prints a table and writes the figures to .bench/eth.json (and, with each
# step's output, to .bench/results/<time>-eth/). The node is stopped at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
TXS=${BENCH_ETH_TXS:-100000}
SEED=${BENCH_SEED:-42}
WORKERS=${BENCH_ETH_WORKERS:-4}
ONE=${BENCH_ETH_ONE:-1}
V="$ROOT/bin/vestigo"
GETH=${VESTIGO_GETH:-$ROOT/.tools/bin/geth}
DIR="$ROOT/.bench"
PY=/usr/bin/python3
out="$DIR/results/$(date -u +%Y%m%dT%H%M%SZ)-eth"
mkdir -p "$out"
if [ ! -x "$GETH" ]; then
	echo "bench-eth: geth is not installed at $GETH: run scripts/tools.sh geth" >&2
	exit 1
fi

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB, $(go version | cut -d' ' -f3), geth $("$GETH" version 2>/dev/null | awk '/^Version:/{print $2}')"
echo "machine: $machine"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vestigo-bench-eth.XXXXXX")
geth_pid=
stop_geth() {
	[ -n "$geth_pid" ] || return 0
	if kill -0 "$geth_pid" 2>/dev/null; then
		kill -INT "$geth_pid"
		for _ in $(seq 100); do
			kill -0 "$geth_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$geth_pid" 2>/dev/null || true
	fi
	wait "$geth_pid" 2>/dev/null || true
	geth_pid=
}
cleanup() {
	stop_geth
	if [ -f "$tmp/geth.log" ]; then tail -c 65536 "$tmp/geth.log" >"$out/geth-tail.log"; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# A block gas limit of 1e9: rounds of 1,000 transactions never fill half a
# block, so the EIP-1559 base fee does not climb under the generator.
"$GETH" --dev --dev.gaslimit 1000000000 --datadir "$tmp/geth" \
	--http --http.addr 127.0.0.1 --http.port 0 --http.api eth,net,web3,debug,txpool \
	--ipcdisable --nodiscover --maxpeers 0 --port 0 --nat none \
	--gcmode archive --state.scheme hash --cache 1024 >"$tmp/geth.log" 2>&1 &
geth_pid=$!
endpoint=
for _ in $(seq 600); do
	endpoint=$(grep -o 'HTTP server started *endpoint=[0-9.:]*' "$tmp/geth.log" | head -1 | sed 's/.*endpoint=//') || true
	[ -n "$endpoint" ] && break
	if ! kill -0 "$geth_pid" 2>/dev/null; then
		echo "bench-eth: geth exited during start-up:" >&2
		tail -20 "$tmp/geth.log" >&2
		exit 1
	fi
	sleep 0.1
done
if [ -z "$endpoint" ]; then
	echo "bench-eth: geth did not open its HTTP endpoint within 60 s" >&2
	exit 1
fi
RPC="http://$endpoint"
for _ in $(seq 100); do
	curl -sf -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$RPC" >/dev/null && break
	sleep 0.1
done
echo "geth --dev (archive) at $RPC, pid $geth_pid"

# timed NAME CMD…: CMD's stdout in $out/NAME.json, its wall time and peak
# RSS in $out/NAME.time.
timed() {
	local name=$1
	shift
	/usr/bin/time -f '{"wall_seconds": %e, "peak_rss_kib": %M}' -o "$out/$name.time" "$@" >"$out/$name.json"
}

echo "generating $TXS transactions (seed $SEED)"
timed generate "$V" bench eth generate --rpc "$RPC" --txs "$TXS" --seed "$SEED" --json
head=$(jq -r .head "$out/generate.json")
echo "peer: fetch-only, $WORKERS workers (blocks 0–$head)"
timed fetch-a "$V" bench eth fetch --rpc "$RPC" --to "$head" --workers "$WORKERS" --json
echo "vestigo import eth, $WORKERS workers"
timed import "$V" --data "$tmp/data" import eth --rpc "$RPC" --to "$head" --workers "$WORKERS" --json
du -sb "$tmp/data/index/evm-1337" | cut -f1 >"$out/import.bytes"
echo "peer again: fetch-only, $WORKERS workers"
timed fetch "$V" bench eth fetch --rpc "$RPC" --to "$head" --workers "$WORKERS" --json
if [ "$ONE" != 0 ] && [ "$WORKERS" != 1 ]; then
	echo "one worker: vestigo import eth, then fetch-only"
	timed import-1 "$V" --data "$tmp/data-1" import eth --rpc "$RPC" --to "$head" --workers 1 --json
	du -sb "$tmp/data-1/index/evm-1337" | cut -f1 >"$out/import-1.bytes"
	timed fetch-1 "$V" bench eth fetch --rpc "$RPC" --to "$head" --workers 1 --json
fi
stop_geth

"$PY" - "$out" "$DIR/eth.json" "$machine" "$WORKERS" <<'PYEOF'
import json, os, sys
out, dest, machine, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def load(n):
    p = os.path.join(out, n + ".json")
    if not os.path.exists(p):
        return None
    r = json.load(open(p))
    t = json.loads(open(os.path.join(out, n + ".time")).read().strip().splitlines()[-1])
    r["process_wall_seconds"], r["peak_rss_bytes"] = t["wall_seconds"], t["peak_rss_kib"] * 1024
    b = os.path.join(out, n + ".bytes")
    if os.path.exists(b):
        r["index_bytes"] = int(open(b).read())
    return r
gen, fa, imp, fetch = load("generate"), load("fetch-a"), load("import"), load("fetch")
imp1, fetch1 = load("import-1"), load("fetch-1")
for i, f in ((imp, fa), (imp, fetch), (imp1, fetch1)):
    if f and i and (f["txs"] != i["txs"] or f["blocks"] != i["blocks"]):
        sys.exit(f"bench-eth: the fetch read {f['blocks']} blocks and {f['txs']} txs, the import {i['blocks']} and {i['txs']}: not the same chain")
if imp["txs"] != gen["txs"]:
    sys.exit(f"bench-eth: the import read {imp['txs']} txs, the generator made {gen['txs']}")

def figures(imp, fetch, workers):
    s = imp["seconds"]
    r = {"workers": workers, "blocks": imp["blocks"], "txs": imp["txs"], "moves": imp["moves"],
         "token_transfers": imp["token_transfers"], "internal_transfers": imp["internal_transfers"], "openings": imp["openings"],
         "seconds": s, "blocks_per_sec": imp["blocks"] / s, "tx_per_sec": imp["txs"] / s, "moves_per_sec": imp["moves"] / s,
         "process_wall_seconds": imp["process_wall_seconds"], "peak_rss_bytes": imp["peak_rss_bytes"],
         "index_bytes": imp["index_bytes"], "index_bytes_per_tx": imp["index_bytes"] / imp["txs"],
         "fetch_seconds_summed_over_workers": imp["fetch_seconds"], "fetch_wait_seconds": imp["fetch_wait_seconds"],
         "state_rpc_seconds": imp["state_rpc_seconds"], "write_seconds": imp["write_seconds"],
         "fetch_only_seconds": fetch["seconds"], "fetch_only_tx_per_sec": fetch["tx_per_sec"],
         "fetch_only_blocks_per_sec": fetch["blocks_per_sec"], "fetch_only_peak_rss_bytes": fetch["peak_rss_bytes"],
         "import_over_fetch_only": s / fetch["seconds"]}
    ratio = r["import_over_fetch_only"]
    # Where the applier (one goroutine, blocks in order) spent its time.
    parts = {"writes": r["write_seconds"], "state-rpc": r["state_rpc_seconds"], "rpc": r["fetch_wait_seconds"]}
    names = {"writes": "writes (Index.Apply)", "state-rpc": "the applier's state RPC (openings, code, token metadata)",
             "rpc": "the node's RPC (the applier waits for fetched blocks)"}
    top = max(parts, key=parts.get)
    r["bound"] = "rpc" if ratio < 1.25 else top
    r["verdict"] = (f"{names[r['bound']]}: the import takes {ratio:.2f}x the time of fetching alone; applier {r['write_seconds']:.1f}s writing, "
                    f"{r['state_rpc_seconds']:.1f}s state RPC, {r['fetch_wait_seconds']:.1f}s waiting for blocks")
    return r

main = figures(imp, fetch, workers)
main["fetch_only_first_seconds"] = fa["seconds"]
res = {"machine": machine, "generation": {"txs": gen["txs"], "setup": gen["setup"], "transfers": gen["transfers"],
        "token_transfers": gen["token_transfers"], "forward_calls": gen["forward_calls"], "accounts": gen["accounts"],
        "blocks": gen["head"] + 1, "seed": gen["seed"], "seconds": gen["seconds"], "tx_per_sec": gen["tx_per_sec"],
        "resent": gen["resent"]},
       "import": main}
if imp1 and fetch1:
    res["import_one_worker"] = figures(imp1, fetch1, 1)
json.dump(res, open(dest, "w"), indent=2)
json.dump(res, open(os.path.join(out, "eth.json"), "w"), indent=2)

g = res["generation"]
mib = lambda b: f"{b / (1 << 20):.0f} MiB"
print()
print(f"chain: {g['blocks']} blocks, {g['txs']} txs ({g['setup']} set-up, {g['transfers']} ether transfers, {g['token_transfers']} token transfers, "
      f"{g['forward_calls']} forwarder calls) between {g['accounts']} accounts; generated in {g['seconds']:.1f}s ({g['tx_per_sec']:.0f} tx/s)")
rows = [("import", main)] + ([("import, 1 worker", res["import_one_worker"])] if "import_one_worker" in res else [])
print(f"{'':18} {'workers':>7} {'seconds':>8} {'blocks/s':>9} {'tx/s':>8} {'moves/s':>9} {'peak RSS':>9} {'B/tx':>6} "
      f"{'fetch-only s':>12} {'import/fetch':>12}")
for name, r in rows:
    print(f"{name:18} {r['workers']:>7} {r['seconds']:>8.1f} {r['blocks_per_sec']:>9.0f} {r['tx_per_sec']:>8.0f} {r['moves_per_sec']:>9.0f} "
          f"{mib(r['peak_rss_bytes']):>9} {r['index_bytes_per_tx']:>6.0f} {r['fetch_only_seconds']:>12.1f} {r['import_over_fetch_only']:>11.2f}x")
for name, r in rows:
    print(f"{name}: {r['moves']} moves ({r['token_transfers']} token, {r['internal_transfers']} internal, {r['openings']} openings); "
          f"index {mib(r['index_bytes'])}; fetchers {r['fetch_seconds_summed_over_workers']:.1f}s on the node (summed)")
    print(f"  bound by {r['verdict']}")
print(f"first fetch-only run (before the import): {main['fetch_only_first_seconds']:.1f}s")
print("(the node and vestigo share the machine's cores during the import; the fetch-only peer decodes too, but writes nothing)")
PYEOF
echo "results: $DIR/eth.json, $out"
