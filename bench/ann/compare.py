#!/usr/bin/env python3
"""hnswlib and faiss IndexHNSWFlat on the data set ann_bench wrote, then the
comparison table against tiembed-ann's results (DIR/tiembed-N.json).

    compare.py --dir DIR --n N [--dim 384] [--queries 1000] [--threads 2]
               [--m 16] [--efc 128] [--libs hnswlib,faiss]
    compare.py --dir DIR --n N --search-only    (hnswlib only; see alternate.sh)

Both libraries get the same M and ef_construction, cosine as inner product
on the (already unit) vectors, and `threads` threads to build. Queries are
timed as batch calls with 1 thread and with `threads` threads, which is the
libraries' best case (no per-query Python overhead); tiembed-ann is timed
per query through its Rust API.
"""

import argparse
import json
import os
import time

import numpy as np

EFS = [16, 32, 64, 128]
K = 10


def vm_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def recall(found, truth):
    hits = sum(len(set(f[:K]) & set(t)) for f, t in zip(found, truth))
    return hits / (len(truth) * K)


def timed(fn, min_seconds=1.5):
    """Calls fn() until min_seconds passed; returns (calls per wall second,
    calls per CPU-second of this thread). The second is what a 1-thread
    search costs on a busy machine (the libraries search in the calling
    thread when given one thread)."""
    t0 = time.perf_counter()
    c0 = time.thread_time()
    calls = 0
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            return calls / elapsed, calls / (time.thread_time() - c0)


def run_hnswlib(base, queries, truth, a):
    import hnswlib

    idx = hnswlib.Index(space="cosine", dim=a.dim)
    rss0 = vm_rss()
    t0, c0 = time.perf_counter(), time.process_time()
    idx.init_index(max_elements=len(base), M=a.m, ef_construction=a.efc, random_seed=1)
    idx.add_items(base, np.arange(len(base)), num_threads=a.threads)
    build, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = vm_rss() - rss0
    idx.save_index(os.path.join(a.dir, f"hnswlib-{a.n}.bin"))
    points = sweep_hnswlib(idx, queries, truth, a)
    return dict(lib="hnswlib", build_s=build, build_cpu_s=build_cpu, rss_mb=rss / 1e6, points=points)


def sweep_hnswlib(idx, queries, truth, a):
    points = []
    for ef in EFS:
        idx.set_ef(ef)
        labels, _ = idx.knn_query(queries, k=K, num_threads=1)
        r = recall(labels, truth)
        q1, q1c = (len(queries) * x for x in timed(lambda: idx.knn_query(queries, k=K, num_threads=1)))
        q2 = len(queries) * timed(lambda: idx.knn_query(queries, k=K, num_threads=a.threads))[0]
        points.append(dict(ef=ef, qps1=q1, qps1_cpu=q1c, qps2=q2, recall=r))
        print(f"{'hnswlib':<22} ef={ef:<4} recall@10={r:.4f}  QPS 1 thread={q1:>8.0f} (per CPU-s {q1c:>6.0f})  "
              f"QPS {a.threads} threads={q2:>8.0f}", flush=True)
    return points


def run_faiss(base, queries, truth, a):
    import faiss

    idx = faiss.IndexHNSWFlat(a.dim, a.m, faiss.METRIC_INNER_PRODUCT)
    idx.hnsw.efConstruction = a.efc
    rss0 = vm_rss()
    faiss.omp_set_num_threads(a.threads)
    t0, c0 = time.perf_counter(), time.process_time()
    idx.add(base)
    build, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = vm_rss() - rss0
    points = []
    for ef in EFS:
        idx.hnsw.efSearch = ef
        faiss.omp_set_num_threads(1)
        _, labels = idx.search(queries, K)
        r = recall(labels, truth)
        q1, q1c = (len(queries) * x for x in timed(lambda: idx.search(queries, K)))
        faiss.omp_set_num_threads(a.threads)
        q2 = len(queries) * timed(lambda: idx.search(queries, K))[0]
        points.append(dict(ef=ef, qps1=q1, qps1_cpu=q1c, qps2=q2, recall=r))
        print(f"{'faiss IndexHNSWFlat':<22} ef={ef:<4} recall@10={r:.4f}  QPS 1 thread={q1:>8.0f} (per CPU-s {q1c:>6.0f})  "
              f"QPS {a.threads} threads={q2:>8.0f}", flush=True)
    return dict(lib="faiss", build_s=build, build_cpu_s=build_cpu, rss_mb=rss / 1e6, points=points)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--efc", type=int, default=128)
    p.add_argument("--libs", default="hnswlib,faiss")
    p.add_argument("--search-only", action="store_true",
                   help="reload the hnswlib index a previous run saved and only time queries")
    a = p.parse_args()

    base = np.fromfile(os.path.join(a.dir, "base.f32"), dtype="<f4").reshape(a.n, a.dim)
    queries = np.fromfile(os.path.join(a.dir, "queries.f32"), dtype="<f4").reshape(a.queries, a.dim)
    truth = np.fromfile(os.path.join(a.dir, "truth.u32"), dtype="<u4").reshape(a.queries, K)
    raw_mb = base.nbytes / 1e6

    if a.search_only:
        import hnswlib

        idx = hnswlib.Index(space="cosine", dim=a.dim)
        idx.load_index(os.path.join(a.dir, f"hnswlib-{a.n}.bin"))
        sweep_hnswlib(idx, queries, truth, a)
        return

    results = []
    for lib in a.libs.split(","):
        print(f"== {lib}: n={a.n} dim={a.dim} M={a.m} ef_construction={a.efc} threads={a.threads}", flush=True)
        r = {"hnswlib": run_hnswlib, "faiss": run_faiss}[lib](base, queries, truth, a)
        print(f"{lib}: build {r['build_s']:.1f} s wall, {r['build_cpu_s']:.1f} CPU-s, VmRSS +{r['rss_mb']:.0f} MB "
              f"(raw vectors {raw_mb:.0f} MB)", flush=True)
        results.append(r)
        with open(os.path.join(a.dir, f"{lib}-{a.n}.json"), "w") as f:
            json.dump(r, f)

    ours_path = os.path.join(a.dir, f"tiembed-{a.n}.json")
    if not os.path.exists(ours_path):
        print(f"no {ours_path}: run ann_bench first for the ratios")
        return
    with open(ours_path) as f:
        ours = json.load(f)
    libs = [ours] + results
    print()
    print(f"n={a.n} dim={a.dim} M={a.m} ef_construction={a.efc}, build on {a.threads} threads")
    print("build (wall / CPU): " + ", ".join(
        f"{r['lib']} {r['build_s']:.1f} s / {r.get('build_cpu_s', float('nan')):.1f} CPU-s" for r in libs))
    print("VmRSS growth: " + ", ".join(f"{r['lib']} {r['rss_mb']:.0f} MB" for r in libs)
          + f" (raw vectors {raw_mb:.0f} MB)")
    head = f"| ef | " + " | ".join(
        f"{r['lib']} recall / QPS1 (per CPU-s) / QPS{a.threads}" for r in libs) + \
        " | tiembed/hnswlib QPS1 | per CPU-s | QPS2 |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    by_lib = {r["lib"]: {p["ef"]: p for p in r["points"]} for r in libs}
    for ef in EFS:
        cells = []
        for r in libs:
            pt = by_lib[r["lib"]][ef]
            cells.append(f"{pt['recall']:.3f} / {pt['qps1']:.0f} ({pt['qps1_cpu']:.0f}) / {pt['qps2']:.0f}")
        ratios = ["-", "-", "-"]
        if "hnswlib" in by_lib:
            h, t = by_lib["hnswlib"][ef], by_lib["tiembed-ann"][ef]
            ratios = [f"{t[f] / h[f]:.2f}x" for f in ("qps1", "qps1_cpu", "qps2")]
        print(f"| {ef} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
