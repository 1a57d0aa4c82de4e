#!/usr/bin/env python3
"""Times the hot calls against a server whose user already owns many jobs (bench/seeded.sh).

One persistent HTTP connection, one call at a time (latency, not throughput); p50 and p99
in milliseconds per shape. Every answer is checked (status, count or length), so a fast
wrong answer is reported as a failure, not as a figure.
"""
import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse

STATES = ["CREATED", "AWAITING_PARENTS", "READY", "STAGED_IN", "PREPROCESSED", "RUNNING",
          "RUN_DONE", "POSTPROCESSED", "JOB_FINISHED", "RUN_ERROR", "RUN_TIMEOUT",
          "RESTART_READY", "FAILED", "STAGED_OUT"]


class Api:
    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.base = u.path.rstrip("/")
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        self.headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}

    def call(self, method, path, body=None, expect=200):
        data = None if body is None else json.dumps(body).encode()
        t0 = time.perf_counter()
        self.conn.request(method, f"{self.base}/{path}", body=data, headers=self.headers)
        r = self.conn.getresponse()
        raw = r.read()
        dt = (time.perf_counter() - t0) * 1000
        if r.status != expect:
            raise SystemExit(f"{method} {path}: HTTP {r.status} (expected {expect}): {raw[:300]!r}")
        return (json.loads(raw) if raw else None), dt


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--site", type=int, required=True)
    ap.add_argument("--app", type=int, required=True)
    ap.add_argument("--requests", type=int, default=20, help="calls per shape")
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    api = Api(a.url, a.token)
    r = a.requests
    rows = []

    def timed(name, calls, check=None, items=None):
        lat = []
        for c in calls:
            body, dt = c()
            if check:
                check(body)
            lat.append(dt)
        extra = ""
        if items:
            extra = f"  {items * len(lat) / (sum(lat) / 1000):9.0f} items/s (one call at a time)"
        rows.append((name, len(lat), statistics.median(lat), pct(lat, 99), extra))
        print(f"  {name:34s} p50 {statistics.median(lat):8.1f} ms  p99 {pct(lat, 99):8.1f} ms{extra}",
              file=sys.stderr)

    total, _ = api.call("GET", "jobs/?limit=0&offset=0")
    total = total["count"]
    counts, _ = api.call("GET", "jobs/state-counts")

    def page_of(n):
        def check(body):
            if len(body["results"]) != n:
                raise SystemExit(f"expected {n} results, got {len(body['results'])}")
        return check

    timed("list: state=RUNNING", [lambda: api.call("GET", "jobs/?state=RUNNING&limit=100&offset=0")] * r,
          page_of(100))
    timed("list: site_id+state=STAGED_IN", [
        lambda: api.call("GET", f"jobs/?site_id={a.site}&state=STAGED_IN&limit=100&offset=0")] * r,
          page_of(100))
    timed("list: ordering=-last_update", [
        lambda: api.call("GET", "jobs/?ordering=-last_update&limit=100&offset=0")] * r, page_of(100))
    timed("list: ordering=-id", [lambda: api.call("GET", "jobs/?ordering=-id&limit=100&offset=0")] * r,
          page_of(100))
    finished, _ = api.call("GET", "jobs/?state=JOB_FINISHED&limit=0&offset=0")
    span = min(finished["count"] - 100, 100_000)
    offsets = [(i * 997) % 1000 * span // 1000 for i in range(r)]
    timed(f"list: state=JOB_FINISHED offset<={span // 1000}k", [
        (lambda o=o: api.call("GET", f"jobs/?state=JOB_FINISHED&limit=100&offset={o}")) for o in offsets],
          page_of(100))
    timed("list: tags=batch:N (1000 jobs)", [
        (lambda i=i: api.call("GET", f"jobs/?tags=batch:{(i * 7919) % (total // 1000)}&limit=100&offset=0"))
        for i in range(1, r + 1)])
    # A tag half of the jobs carry: a page walks the owner's jobs in order (PostgreSQL),
    # the count comes from the per-tag counters; with an offset, further down the walk.
    timed("list: tags=kind:even (half the jobs)", [
        (lambda i=i: api.call("GET", f"jobs/?tags=kind:{('even', 'odd')[i % 2]}&limit=100&offset={(i % 4) * 100}"))
        for i in range(1, r + 1)], page_of(100))

    def refresh():
        t0 = time.perf_counter()
        for s in STATES:
            body, _ = api.call("GET", f"jobs/?site_id={a.site}&state={s}&limit=0&offset=0")
            if "count" not in body:
                raise SystemExit("no count")
        return None, (time.perf_counter() - t0) * 1000

    timed("counts: 14 states of one Site (refresh)", [refresh] * r)
    timed("GET /jobs/state-counts", [lambda: api.call("GET", "jobs/state-counts")] * r)

    session, _ = api.call("POST", "sessions/", {"site_id": a.site, "batch_job_id": None}, 201)
    acquire = {"max_num_jobs": 100, "max_wall_time_min": None, "max_nodes_per_job": 1,
               "max_aggregate_nodes": None, "serial_only": False, "sort_by": None,
               "filter_tags": {}, "states": ["PREPROCESSED", "RESTART_READY"], "app_ids": []}
    timed("acquire 100 (serial launcher)", [
        lambda: api.call("POST", f"sessions/{session['id']}", acquire)] * r, page_of_list(100), items=100)
    # A launcher whose BatchJob has filter_tags: a tag whose waiting jobs come last by id
    # (the ten last batches of 1 000, 5 jobs a call), and a tag no job carries.
    last = (total - 1) // 1000

    def tagged(i):
        body = dict(acquire, max_num_jobs=5, filter_tags={"batch": str(last - i % 10)})
        return api.call("POST", f"sessions/{session['id']}", body)

    timed("acquire 5, filter_tags: a late batch", [(lambda i=i: tagged(i)) for i in range(r)],
          page_of_list(5))
    nothing = dict(acquire, filter_tags={"kind": "no-job-has-it"})
    timed("acquire, filter_tags no job carries", [
        lambda: api.call("POST", f"sessions/{session['id']}", nothing)] * r, page_of_list(0))
    api.call("DELETE", f"sessions/{session['id']}", expect=204)

    def create(i):
        jobs = [{"workdir": f"probe/{i}/{k}", "app_id": a.app, "tags": {"batch": "probe", "kind": "x"},
                 "serialized_parameters": "", "data": {}, "return_code": None, "num_nodes": 1,
                 "ranks_per_node": 1, "threads_per_rank": 1, "threads_per_core": 1, "launch_params": {},
                 "gpus_per_rank": 0.0, "node_packing_count": 1, "wall_time_min": 0, "parent_ids": [],
                 "transfers": {}} for k in range(1000)]
        return api.call("POST", "jobs/", jobs, 201)

    timed("bulk-create 1000", [(lambda i=i: create(i)) for i in range(max(r // 2, 3))],
          page_of_list(1000), items=1000)

    staged, _ = api.call("GET", f"jobs/?state=STAGED_IN&limit={1000 * max(r // 2, 3)}&offset=0")
    ids = [j["id"] for j in staged["results"]]

    def patch(chunk):
        body = [{"id": i, "state": "PREPROCESSED", "state_data": {}} for i in chunk]
        return api.call("PATCH", "jobs/", body)

    chunks = [ids[k:k + 1000] for k in range(0, len(ids), 1000)]

    def updated(body):
        if body != 1000:
            raise SystemExit(f"PATCH answered {body}")

    timed("bulk-patch 1000 (with LogEvents)", [(lambda c=c: patch(c)) for c in chunks], updated,
          items=1000)
    print(json.dumps({"label": a.label, "jobs": total, "rows": [
        {"shape": n, "calls": k, "p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}
        for n, k, p50, p99, _ in rows]}))


def page_of_list(n):
    def check(body):
        if len(body) != n:
            raise SystemExit(f"expected {n} items, got {len(body)}")
    return check


if __name__ == "__main__":
    main()
