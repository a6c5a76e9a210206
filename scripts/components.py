#!/usr/bin/python3
"""Connected components of an edge list with a peer library.

The peers of Vestigo's clustering benchmark and the oracle of its tests:
reads the edge list written by `vestigo cluster export-edges` (two decimal
address ids per line) and prints one JSON object: the library, the number
of components (among the nodes that appear in an edge), the size of the
largest, and the seconds spent loading and in total (loading included).

Usage: components.py scipy|igraph|networkx EDGES
Runs under Debian's python3 with python3-scipy, python3-igraph and
python3-networkx (scripts/tools.sh pypeers installs them).
"""
import json
import sys
import time


def load(path):
    import numpy as np

    # numpy's C parser: the fastest plain loader these packages offer.
    flat = np.fromfile(path, dtype=np.int64, sep=" ")
    if flat.size % 2:
        raise SystemExit(f"{path}: odd number of ids")
    return flat.reshape(-1, 2)


def scipy_components(path):
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    t0 = time.perf_counter()
    e = load(path)
    # Relabel the ids that occur to 0..n-1, so that isolated ids (addresses
    # never co-spent) do not count as components.
    nodes, inv = np.unique(e, return_inverse=True)
    inv = inv.reshape(-1, 2)
    t_load = time.perf_counter() - t0
    n = nodes.size
    g = coo_matrix((np.ones(len(inv), dtype=np.int8), (inv[:, 0], inv[:, 1])), shape=(n, n)).tocsr()
    count, labels = connected_components(g, directed=False)
    largest = int(np.bincount(labels).max()) if n else 0
    return count, largest, t_load, time.perf_counter() - t0


def igraph_components(path):
    import igraph
    import numpy as np

    t0 = time.perf_counter()
    e = load(path)
    nodes, inv = np.unique(e, return_inverse=True)
    inv = inv.reshape(-1, 2)
    t_load = time.perf_counter() - t0
    g = igraph.Graph(n=int(nodes.size), edges=inv.tolist(), directed=False)
    comps = g.connected_components()
    sizes = comps.sizes()
    return len(sizes), max(sizes) if sizes else 0, t_load, time.perf_counter() - t0


def networkx_components(path):
    import networkx as nx

    t0 = time.perf_counter()
    g = nx.Graph()
    with open(path) as f:
        g.add_edges_from((int(a), int(b)) for a, b in (line.split() for line in f))
    t_load = time.perf_counter() - t0
    sizes = [len(c) for c in nx.connected_components(g)]
    return len(sizes), max(sizes) if sizes else 0, t_load, time.perf_counter() - t0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("scipy", "igraph", "networkx"):
        raise SystemExit(__doc__)
    lib, path = sys.argv[1], sys.argv[2]
    fn = {"scipy": scipy_components, "igraph": igraph_components, "networkx": networkx_components}[lib]
    count, largest, t_load, t_total = fn(path)
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"tool": lib, "components": int(count), "largest": int(largest),
                      "load_seconds": round(t_load, 3), "seconds": round(t_total, 3), "peak_rss_bytes": rss}))


if __name__ == "__main__":
    main()
