#!/usr/bin/python3
"""Forward traversals of an address graph with a peer library.

The peers of Vestigo's tracing benchmark: loads the address graph written by
`vestigo bench trace --export-graph` (u v per line: a transaction spent from
u and paid v) and, from each seed address, finds every address reachable in
4 and in 6 hops. Prints one JSON object: per-traversal latency percentiles,
the load time and the total time (load included).

Usage: traverse.py networkx|igraph GRAPH SEEDS
"""
import json
import sys
import time


def pct(ds):
    ds = sorted(ds)
    at = lambda q: round(ds[int(q * (len(ds) - 1))] * 1000, 3) if ds else 0
    return {"p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1)}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("networkx", "igraph"):
        raise SystemExit(__doc__)
    lib, graph, seedfile = sys.argv[1:]
    t0 = time.perf_counter()
    seeds = [int(l) for l in open(seedfile) if l.strip()]
    if lib == "networkx":
        import networkx as nx
        g = nx.DiGraph()
        with open(graph) as f:
            g.add_edges_from((int(a), int(b)) for a, b in (l.split() for l in f))
        load = time.perf_counter() - t0

        def reach(s, h):
            if s not in g:
                return 0
            return len(nx.single_source_shortest_path_length(g, s, cutoff=h))
    else:
        import igraph
        import numpy as np
        e = np.fromfile(graph, dtype=np.int64, sep=" ").reshape(-1, 2)
        n = int(max(e.max(initial=0), max(seeds, default=0))) + 1
        g = igraph.Graph(n=n, edges=e.tolist(), directed=True)
        load = time.perf_counter() - t0

        def reach(s, h):
            return len(g.neighborhood(vertices=s, order=h, mode="out"))
    out = {"tool": lib, "load_seconds": round(load, 3)}
    for h in (4, 6):
        ds, total = [], 0
        for s in seeds:
            t = time.perf_counter()
            total += reach(s, h)
            ds.append(time.perf_counter() - t)
        out[f"traverse_{h}_hops"] = pct(ds)
        out[f"reached_{h}_hops"] = total
    out["seconds"] = round(time.perf_counter() - t0, 3)
    import resource
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main()
