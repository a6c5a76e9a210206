#!/usr/bin/env bash
# make bench-trace: on the generated chain of BENCH_TXS transactions
# (default 1,000,000; chain and index cached in .bench/, see bench-data.sh),
# measures history lookups, 4- and 6-hop forward haircut traces from 1,000
# random addresses (p50/p95/p99, cold then warm page cache) and one-pass
# taint propagation from those 1,000 seeds over the whole chain; then the
# peers, networkx and igraph (Debian's packages), traverse 4 and 6 hops from
# the same addresses on the address graph Vestigo exports, load included.
set -euo pipefail
source "$(dirname "$0")/bench-data.sh"

out="$RESULTS/$(date -u +%Y%m%dT%H%M%SZ)-trace"
mkdir -p "$out"
# Cold: drop the page cache first when allowed (root); say so when not.
if sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then cold=cold; else cold=warm-only; fi
echo "vestigo ($cold run, then warm)"
timed vestigo-cold "$V" --data "$DATA" bench trace --samples 1000 --json --seeds-out "$out/seeds.txt"
timed vestigo-warm "$V" --data "$DATA" bench trace --samples 1000 --json --export-graph "$out/graph.txt"
for lib in networkx igraph; do
	echo "peer: $lib"
	timed "$lib" "$PY" "$ROOT/scripts/traverse.py" "$lib" "$out/graph.txt" "$out/seeds.txt"
done
rm -f "$out/graph.txt"
"$PY" - "$out" "$cold" <<'PYEOF'
import json, os, sys
out, cold = sys.argv[1], sys.argv[2]
def load(n):
    b = json.load(open(os.path.join(out, n + ".json")))
    t = json.loads(open(os.path.join(out, n + ".time")).read().strip().splitlines()[-1])
    return b, t
c, ct = load("vestigo-cold"); w, wt = load("vestigo-warm")
print()
for name, r, t in ((f"vestigo ({cold})", c, ct), ("vestigo (warm)", w, wt)):
    print(f"{name:18} history p99 {r['history']['p99_ms']:.2f} ms; 4-hop p50/p95/p99 {r['trace_4_hops']['p50_ms']:.2f}/{r['trace_4_hops']['p95_ms']:.2f}/{r['trace_4_hops']['p99_ms']:.2f} ms; "
          f"6-hop {r['trace_6_hops']['p50_ms']:.2f}/{r['trace_6_hops']['p95_ms']:.2f}/{r['trace_6_hops']['p99_ms']:.2f} ms; propagation from 1,000 seeds {r['propagate_seconds']:.2f} s; "
          f"process {t['wall_seconds']:.1f} s, peak {t['peak_rss_kib']/1024:.0f} MiB")
print(f"address graph: {w.get('graph_edges', 0)} edges")
for lib in ("networkx", "igraph"):
    p, pt = load(lib)
    r4, r6 = p["traverse_4_hops"], p["traverse_6_hops"]
    print(f"{lib:18} load {p['load_seconds']:.1f} s; 4-hop p50/p95/p99 {r4['p50_ms']:.2f}/{r4['p95_ms']:.2f}/{r4['p99_ms']:.2f} ms; 6-hop {r6['p50_ms']:.2f}/{r6['p95_ms']:.2f}/{r6['p99_ms']:.2f} ms; "
          f"total {pt['wall_seconds']:.1f} s, peak {pt['peak_rss_kib']/1024:.0f} MiB; vestigo warm 4-hop p99 is {r4['p99_ms']/max(w['trace_4_hops']['p99_ms'],0.001):.1f}x faster per traversal, "
          f"{pt['wall_seconds']/max(wt['wall_seconds'],0.01):.1f}x end to end")
PYEOF
echo "results: $out"
