"""Summarises bench/embed/run.sh's results: tiembed against
sentence-transformers (PyTorch) per batch size, with ranges over rounds,
and the agreement of the two implementations' vectors.

    report.py RESULTS.jsonl [--dumps TIEMBED.f32 PYTORCH.f32 DIM]

RESULTS.jsonl holds the JSON lines both sides printed, with a
`{"round": i}` line before each round. A ratio is taken within a round
(tiembed's figure over PyTorch's best figure of the same round), so load
that moves both moves neither ratio much; the table shows the median ratio
and its range over rounds.
"""

import argparse
import json
import statistics
from collections import defaultdict


def load(path):
    """{round: [records]}"""
    rounds, current = defaultdict(list), 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            rec = json.loads(line)
            if "round" in rec:
                current = rec["round"]
            else:
                rounds[current].append(rec)
    return rounds


def spread(values, fmt="{:.0f}"):
    values = sorted(values)
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(values[0])}-{fmt.format(values[-1])})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--dumps", nargs=3, metavar=("TIEMBED", "PYTORCH", "DIM"))
    args = ap.parse_args()
    rounds = load(args.results)

    # Per round: the best PyTorch throughput over every (threads, batch),
    # batch 1 aside: it runs on fewer texts, not the same set.
    best_torch, best_cfg = {}, defaultdict(int)
    for r, recs in rounds.items():
        torch = [x for x in recs if x["impl"] == "pytorch" and "sps" in x and x["batch"] != 1]
        if torch:
            top = max(torch, key=lambda x: x["sps"])
            best_torch[r] = top["sps"]
            best_cfg[(top["threads"], top["batch"])] += 1

    sps = defaultdict(lambda: defaultdict(list))  # (impl, threads, batch) -> round -> [sps]
    query = defaultdict(lambda: defaultdict(list))
    for r, recs in rounds.items():
        for x in recs:
            key = (x["impl"], x["threads"])
            if "sps" in x:
                sps[key + (x["batch"],)][r].append(x["sps"])
            if "query_ms" in x:
                query[key][r].append(x["query_ms"])

    print(f"{len(rounds)} rounds; sentences/s as median (min-max over rounds); "
          "batch 1 runs on the first texts only (see compare.py)")
    if best_torch:
        cfgs = ", ".join(f"{t} threads batch {b} ({n}x)" for (t, b), n in sorted(best_cfg.items()))
        print(f"PyTorch best per round: {spread(best_torch.values())} sentences/s; best setting: {cfgs}")
    print()
    print(f"{'impl':<8} {'threads':>7} {'batch':>5}  {'sentences/s':<20} {'vs PyTorch best':<22} {'vs PyTorch same batch':<22}")
    for key in sorted(sps, key=lambda k: (k[0] != "tiembed", k[1], k[2])):
        impl, threads, batch = key
        per_round = {r: statistics.median(v) for r, v in sps[key].items()}
        vs_best = [per_round[r] / best_torch[r] for r in per_round if r in best_torch]
        same = []
        if impl == "tiembed":
            for r, v in per_round.items():
                t = [x["sps"] for x in rounds[r]
                     if x["impl"] == "pytorch" and x.get("batch") == batch and "sps" in x]
                if t:
                    same.append(v / max(t))
        print(f"{impl:<8} {threads:>7} {batch:>5}  {spread(per_round.values()):<20} "
              f"{spread(vs_best, '{:.2f}') if vs_best else '-':<22} "
              f"{spread(same, '{:.2f}') if same else '-':<22}")
    print()
    print("one short query embedded alone (ms, median of repeats; min-max over rounds):")
    torch_q = {r: min(v) for (impl, _), by_r in query.items() if impl == "pytorch" for r, v in by_r.items()}
    for (impl, threads), by_r in sorted(query.items()):
        ms = {r: statistics.median(v) for r, v in by_r.items()}
        speedup = [torch_q[r] / m for r, m in ms.items() if r in torch_q]
        note = f"  PyTorch best / this: {spread(speedup, '{:.2f}')}" if impl == "tiembed" and speedup else ""
        print(f"  {impl:<8} {threads} threads: {spread(ms.values(), '{:.2f}')} ms{note}")

    if args.dumps:
        import numpy as np

        ours_path, theirs_path, dim = args.dumps
        ours = np.fromfile(ours_path, dtype="<f4").reshape(-1, int(dim))
        theirs = np.fromfile(theirs_path, dtype="<f4").reshape(-1, int(dim))
        assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
        cos = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
        worst = int(cos.argmin())
        print()
        print(f"agreement over {len(cos)} texts: cosine min {cos.min():.7f} (text #{worst}), "
              f"mean {cos.mean():.7f}; max |difference| {np.abs(ours - theirs).max():.2e}; "
              f"{'OK' if cos.min() >= 0.9999 else 'BELOW 0.9999'}")


if __name__ == "__main__":
    main()
