#!/usr/bin/env python3
"""Merge balsam-bench JSON results into one comparison table.

    bench/compare_table.py [--ratio NUM/DEN] [--json OUT] LABEL=RESULT.json ...

One row per scenario (in the order they first appear), per target the throughput
(items/s where the scenario counts items, else req/s), p50 and p99 in ms, and the
throughput ratio NUM/DEN (default: the second target over the last one). A target
whose file is missing or unreadable shows "-" throughout. Standard library only.
"""

import argparse
import json
import sys

# What "items" counts in each row (balsam-bench README, "Scenarios").
ITEM_UNITS = {
    "bulk-create": "jobs/s",
    "list-fill": "jobs/s",
    "bulk-patch": "jobs/s",
    "acquire": "jobs/s",
    "acquire/patch": "patches/s",
    "ws": "jobs rcvd/s",
    "ws/calls": "jobs/s",
    "ws/patches": "updates/s",
}
SIZE_KEYS = [
    "jobs", "batch", "list_jobs", "fill_batch", "list_requests", "launchers",
    "acquire_max", "state_count_requests", "ws_subscribers", "ws_jobs",
]


def load(path):
    try:
        with open(path) as f:
            return json.load(f), None
    except (OSError, ValueError) as e:
        return None, f"{path}: {e}"


def throughput(row):
    """(value, unit) for a result row; items/s where the row counts items."""
    if row is None or row.get("status") != "ok":
        return None, None
    name = row["name"]
    items = row.get("items")
    if items and row.get("items_per_s") is not None:
        unit = ITEM_UNITS.get(name, "rows/s" if name.startswith("list") else "items/s")
        return row["items_per_s"], unit
    return row.get("req_per_s"), "req/s"


def fmt_num(v, width=0):
    if v is None:
        return "-"
    if v >= 1000:
        s = f"{v:,.0f}"
    elif v >= 100:
        s = f"{v:.0f}"
    elif v >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.2f}"
    return s


def sizes(doc):
    p = (doc or {}).get("params", {})
    return {k: p.get(k) for k in SIZE_KEYS if k in p}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("targets", nargs="+", metavar="LABEL=FILE")
    ap.add_argument("--ratio", metavar="NUM/DEN", help="labels of the throughput ratio column")
    ap.add_argument("--json", metavar="OUT", help="also write the merged table as JSON")
    ap.add_argument("--title", default="", help="a line printed above the table")
    args = ap.parse_args()

    targets = []
    for t in args.targets:
        label, sep, path = t.partition("=")
        if not sep:
            ap.error(f"expected LABEL=FILE, got {t!r}")
        doc, err = load(path)
        targets.append({"label": label, "path": path, "doc": doc, "error": err})
    labels = [t["label"] for t in targets]
    if args.ratio:
        num, _, den = args.ratio.partition("/")
    else:
        num, den = (labels[1] if len(labels) > 1 else labels[0]), labels[-1]
    for l in (num, den):
        if l not in labels:
            ap.error(f"--ratio: no target labelled {l!r}")

    names = []
    for t in targets:
        t["rows"] = {}
        for r in (t["doc"] or {}).get("scenarios", []):
            t["rows"][r["name"]] = r
            if r["name"] not in names:
                names.append(r["name"])

    # Cells.
    table = []
    merged = []
    for name in names:
        cells = [name]
        unit = None
        entry = {"scenario": name, "targets": {}}
        values = {}
        for t in targets:
            row = t["rows"].get(name)
            v, u = throughput(row)
            unit = unit or u
            status = row.get("status") if row else None
            if row is None:
                tp = "-"
            elif status == "n/a":
                tp = "n/a"
            elif status != "ok":
                tp = "ERROR"
            else:
                tp = fmt_num(v)
            p50 = fmt_num(row.get("p50_ms")) if row and status == "ok" else "-"
            p99 = fmt_num(row.get("p99_ms")) if row and status == "ok" else "-"
            cells += [tp, p50, p99]
            values[t["label"]] = v
            entry["targets"][t["label"]] = {
                "status": status, "throughput": v, "unit": u,
                "p50_ms": row.get("p50_ms") if row else None,
                "p99_ms": row.get("p99_ms") if row else None,
            }
        a, b = values.get(num), values.get(den)
        ratio = a / b if a is not None and b else None
        entry["unit"] = unit
        entry["ratio"] = ratio
        cells.insert(1, unit or "")
        cells.append(f"{ratio:.2f}x" if ratio is not None else "n/a")
        table.append(cells)
        merged.append(entry)

    head1 = ["", ""] + sum(([t["label"], "", ""] for t in targets), []) + [f"{num} /"]
    head2 = ["scenario", "unit"] + ["throughput", "p50 ms", "p99 ms"] * len(targets) + [den]
    widths = [max(len(r[i]) for r in table + [head2]) for i in range(len(head2))]
    # Group headers span their three columns.
    for k, t in enumerate(targets):
        span = sum(widths[2 + 3 * k: 5 + 3 * k]) + 4
        if len(t["label"]) > span:
            widths[2 + 3 * k] += len(t["label"]) - span
    widths[-1] = max(widths[-1], len(head1[-1]))

    def line(cells, group=False):
        out = []
        i = 0
        while i < len(cells):
            if group and 2 <= i < 2 + 3 * len(targets):
                span = sum(widths[i:i + 3]) + 4
                out.append(cells[i].center(span))
                i += 3
                continue
            c = cells[i]
            out.append(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]))
            i += 1
        return "  ".join(out).rstrip()

    out = []
    if args.title:
        out.append(args.title)
        out.append("")
    out.append(line(head1, group=True))
    out.append(line(head2))
    out.append("  ".join("-" * w for w in widths))
    for r in table:
        out.append(line(r))
    out.append("")
    out.append(f"throughput: items/s where the scenario counts items (unit column), else req/s; "
               f"ratio = {num} throughput / {den} throughput (> 1: {num} faster). "
               "Throughput is per item, so it is comparable across different sizes; latency is not.")
    base = sizes(next((t["doc"] for t in targets if t["label"] == num), None))
    for t in targets:
        doc = t["doc"]
        if doc is None:
            out.append(f"{t['label']}: NO RESULTS ({t['error']})")
            continue
        s = sizes(doc)
        line_sizes = " ".join(f"{k.replace('_', '-')}={v}" for k, v in s.items())
        out.append(f"{t['label']}: {doc.get('label') or doc.get('api_root')}")
        out.append(f"    sizes: {line_sizes}")
        if base and s != base:
            diff = ", ".join(f"{k.replace('_', '-')} {s.get(k)} vs {base.get(k)}"
                             for k in SIZE_KEYS if s.get(k) != base.get(k))
            out.append(f"    NOTE: sizes differ from {num} ({diff}); the ratio is per item, but rows "
                       "that scale with the table (list, acquire) ran on a smaller table here, "
                       "which favours this target")
        for r in doc.get("scenarios", []):
            if r.get("status") == "n/a":
                out.append(f"    {r['name']}: n/a: {r.get('reason', '')}")
            elif r.get("status") == "error":
                out.append(f"    {r['name']}: ERROR: {r.get('reason', '')}")
        if doc.get("failure"):
            out.append(f"    run stopped: {doc['failure']}")
        for p in doc.get("problems", [])[:10]:
            out.append(f"    CHECK FAILED: {p}")
        if doc.get("retries"):
            out.append(f"    {doc['retries']} GET/DELETE request(s) re-sent after the server dropped a kept-alive connection")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ratio": f"{num}/{den}", "rows": merged,
                       "targets": [{k: t[k] for k in ("label", "path", "error")} |
                                   {"sizes": sizes(t["doc"]),
                                    "run_label": (t["doc"] or {}).get("label")}
                                   for t in targets]}, f, indent=2)
            f.write("\n")
    return 0 if all(t["doc"] is not None for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
