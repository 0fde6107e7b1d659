#!/usr/bin/env python3
"""Median of several compare.py rounds of one scenario, as one markdown table.

usage: median.py ROUND.md [ROUND.md ...]

Each file is one compare.py output. Every ratio (each server against each other one) is taken
within a round and then the median over the rounds, because the host's speed drifts between rounds
far more than it does within one.
"""
import statistics
import sys


def rows(path):
    """-> [(server, req/s, p99 ms)] in table order; the header and separator rows are skipped."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 5 or cells[0] in ("server", "") or cells[0].startswith("---"):
                continue
            try:
                out.append((cells[0], float(cells[1]), float(cells[4])))
            except ValueError:
                continue  # a server that did not run
    return out


def main(paths):
    rounds = [r for r in map(rows, paths) if r]
    if not rounds:
        sys.exit("median.py: no table found")
    servers = [name for name, _, _ in rounds[0]]
    print(f"\nMedian of {len(rounds)} rounds; each ratio is taken within a round, then the median (lowest-highest):\n")
    print("| server | req/s | p99 ms | " + " | ".join(f"vs {s}" for s in servers) + " |")
    print("|---|---|---|" + "---|" * len(servers))
    tables = [{n: (q, p) for n, q, p in r} for r in rounds]
    for name in servers:
        mine = [t[name] for t in tables if name in t]
        if not mine:
            continue
        cells = [f"{statistics.median(q for q, _ in mine):.0f}", f"{statistics.median(p for _, p in mine):.2f}"]
        for other in servers:
            ratios = [t[name][0] / t[other][0] for t in tables if name in t and other in t and t[other][0] > 0]
            cells.append(f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})" if ratios else "-")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
