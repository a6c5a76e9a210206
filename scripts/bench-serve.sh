#!/usr/bin/env bash
# make bench-serve: vestigo serve on the generated chain of BENCH_TXS
# transactions (default 1,000,000; see bench-data.sh), over loopback only:
# history lookups and 4-/6-hop traces from 1,000 random funded addresses
# (p50/p95/p99), then 50 concurrent clients with API tokens for 60 s on a mix
# of address, tx, cluster and trace queries and case writes: requests/s,
# latencies, errors and the server's peak RSS. BENCH_CLIENTS and
# BENCH_SECONDS change the load.
set -euo pipefail
source "$(dirname "$0")/bench-data.sh"

out="$RESULTS/$(date -u +%Y%m%dT%H%M%SZ)-serve"
mkdir -p "$out"
"$V" --data "$DATA" bench serve --samples 1000 --clients "${BENCH_CLIENTS:-50}" --duration "${BENCH_SECONDS:-60}s" --json >"$out/serve.json"
"$PY" - "$out/serve.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
f = lambda l: f"{l['p50_ms']:.2f}/{l['p95_ms']:.2f}/{l['p99_ms']:.2f} ms"
print(f"vestigo serve over loopback, {r['samples']} addresses: history {f(r['history'])}; 4-hop {f(r['trace_4_hops'])}; 6-hop {f(r['trace_6_hops'])} (p50/p95/p99)")
print(f"load: {r['clients']} clients, {r['seconds']:.0f} s: {r['requests']} requests, {r['requests_per_second']:.0f}/s, {f(r['latency'])}, "
      f"{r['errors']} errors; server peak RSS {r['server_peak_rss_bytes']/2**20:.0f} MiB")
for k in ("address", "tx", "cluster", "trace", "note"):
    print(f"  {k:8} {r['counts'].get(k, 0):7d}  {f(r['by_kind'][k]) if k in r['by_kind'] else '-'}")
if r.get("first_error"):
    print("first error:", r["first_error"])
PYEOF
echo "results: $out"
