#!/usr/bin/env bash
# make bench-cluster: clusters the generated chain of BENCH_TXS transactions
# (default 1,000,000; chain and index cached in .bench/) and, in the same
# run, computes the connected components of the same co-spend edge list with
# the peers: scipy (csgraph.connected_components), igraph and networkx from
# Debian's packages. Prints times, peak RSS and the ratios; results are kept
# in .bench/results/.
set -euo pipefail
source "$(dirname "$0")/bench-data.sh"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$RESULTS/$stamp-cluster"
mkdir -p "$out"

echo "vestigo: cluster build from the store (end to end: process start, scan, union-find, persisted store)"
rm -rf "$DATA/cluster"
timed vestigo-build "$V" --data "$DATA" cluster build --json
echo "vestigo: in-memory components and incremental updates"
timed vestigo-bench "$V" --data "$DATA" bench cluster --json
echo "vestigo: export-edges"
timed vestigo-edges "$V" --data "$DATA" cluster export-edges --out "$out/edges.txt"
for lib in scipy igraph networkx; do
	echo "peer: $lib connected components of the edge list (including loading it)"
	timed "$lib" "$PY" "$ROOT/scripts/components.py" "$lib" "$out/edges.txt"
done
rm -f "$out/edges.txt"

"$PY" - "$out" <<'PYEOF'
import json, os, sys
out = sys.argv[1]
def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        body = f.read()
    with open(os.path.join(out, name + ".time")) as f:
        t = json.loads(f.read().strip().splitlines()[-1])
    return (json.loads(body) if body.strip() else {}), t
b, bt = load("vestigo-build")
m, mt = load("vestigo-bench")
print()
print(f"co-spend clustering of {m['blocks']} blocks, {m['txs']} txs, {m['inputs']} inputs, {m['edges']} edges")
print(f"vestigo in memory (from its store): {m['components_seconds']:.2f}s, {m['inputs_per_sec']:.0f} inputs/s, {m['edges_per_sec']:.0f} edges/s; "
      f"{m['components']} clusters of 2+, largest {m['largest']}")
print(f"vestigo cluster build (end to end, persisted): {bt['wall_seconds']:.2f}s, peak RSS {bt['peak_rss_kib']/1024:.0f} MiB")
print(f"vestigo incremental: {m['incremental_ms_per_block']:.2f} ms per block ({m['incremental_txs_per_block']:.0f} txs/block)")
print()
print(f"{'peer':10} {'wall s':>8} {'peak MiB':>9} {'components':>11} {'largest':>8} {'same?':>6} {'build vs peer':>14} {'RSS vs peer':>12}")
for lib in ("scipy", "igraph", "networkx"):
    p, pt = load(lib)
    same = p.get("components") == m["components"] and p.get("largest") == m["largest"]
    print(f"{lib:10} {pt['wall_seconds']:8.2f} {pt['peak_rss_kib']/1024:9.0f} {p.get('components', 0):11d} {p.get('largest', 0):8d} {str(same):>6} "
          f"{pt['wall_seconds']/max(bt['wall_seconds'],0.01):13.2f}x {bt['peak_rss_kib']/max(pt['peak_rss_kib'],1):11.2f}x")
print()
print("build vs peer: the peer's wall time / vestigo cluster build's (higher is better for vestigo);")
print("RSS vs peer: vestigo's peak RSS / the peer's (lower is better for vestigo).")
PYEOF
echo "results: $out"
