#!/usr/bin/env python3
"""Per-statement-kind latencies from the traces of a bench/clients run.

    bench/clients/run.sh --trace-dir DIR ...
    python bench/clients/kinds.py DIR [--client NAME ...] [--by-template SCRIPT_JSON]

Every run's trace is [[index, kind, seconds], ...] for its 1,000
statements. For each client and kind this prints the statement count and,
per server over all rounds, the median and 90th percentile latency in
microseconds and the total milliseconds per run (median over rounds), then
the ratio of the medians first/second server. Medians over all rounds are
what survive a noisy machine; the sum says which kinds dominate the
script's time. With --by-template (the run's script.json), rows are the
distinct statement templates instead of kinds (BEGIN inside an order
transaction and elsewhere are one template).
"""

import argparse
import collections
import glob
import json
import os
import statistics


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--client", action="append")
    ap.add_argument("--servers", default="tiembed,mariadb")
    ap.add_argument("--by-template", metavar="SCRIPT_JSON")
    args = ap.parse_args()
    label = None
    if args.by_template:
        with open(args.by_template, encoding="utf-8") as f:
            stmts = json.load(f)["statements"]
        names = {}
        label = []
        for s in stmts:
            t = s["tmpl"]
            if t not in names:
                names[t] = f"T{len(names) + 1:02d}"
            label.append(names[t])
    a, b = args.servers.split(",")
    # (client, server) -> kind -> [latencies over all runs]; and per-run sums
    lat = collections.defaultdict(lambda: collections.defaultdict(list))
    sums = collections.defaultdict(lambda: collections.defaultdict(list))
    clients = []
    nruns = collections.Counter()
    for path in sorted(glob.glob(os.path.join(args.dir, "*.json"))):
        client, server, _rnd, _ = os.path.basename(path).rsplit(".", 3)
        if args.client and client not in args.client:
            continue
        if client not in clients:
            clients.append(client)
        with open(path) as f:
            trace = json.load(f)
        nruns[(client, server)] += 1
        per_run = collections.defaultdict(float)
        for i, kind, dt in trace:
            if label:
                kind = label[i]
            lat[(client, server)][kind].append(dt)
            per_run[kind] += dt
        for kind, s in per_run.items():
            sums[(client, server)][kind].append(s)
    for client in clients:
        la, lb = lat[(client, a)], lat[(client, b)]
        if not la or not lb:
            continue
        runs = nruns[(client, a)]
        tot_a = sum(statistics.median(v) for v in sums[(client, a)].values())
        tot_b = sum(statistics.median(v) for v in sums[(client, b)].values())
        print(f"\n{client}: {runs} run(s) per server; statement time per run (median) "
              f"{a} {tot_a * 1e3:.0f} ms, {b} {tot_b * 1e3:.0f} ms")
        print(f"{'template' if label else 'kind':<14}{'n':>5}{a + ' p50':>13}{b + ' p50':>13}{a + ' p90':>13}{b + ' p90':>13}"
              f"{a + ' ms':>12}{b + ' ms':>12}{'p50 ratio':>11}")
        order = sorted(la, key=lambda k: -statistics.median(sums[(client, a)][k]))
        for k in order:
            n = len(la[k]) // runs
            ma, mb = statistics.median(la[k]), statistics.median(lb[k])
            print(f"{k:<14}{n:>5}{ma * 1e6:>11.0f}us{mb * 1e6:>11.0f}us{pct(la[k], 90) * 1e6:>11.0f}us"
                  f"{pct(lb[k], 90) * 1e6:>11.0f}us{statistics.median(sums[(client, a)][k]) * 1e3:>12.1f}"
                  f"{statistics.median(sums[(client, b)][k]) * 1e3:>12.1f}{ma / mb:>10.2f}x")
    if label:
        print()
        for t, name in names.items():
            print(f"{name}  {t}")


if __name__ == "__main__":
    main()
