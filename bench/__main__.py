"""``make bench`` / ``python -m bench``: every benchmark, one after the other.

Each prints its own markdown table, measured against its baseline in the same run. The
Redis benchmarks use the server at ``redis://127.0.0.1:6379/0`` and only keys under a fresh
prefix, which they delete.
"""

from __future__ import annotations

from bench import cluster, inprocess, outbox, rq_bench, streams


def main() -> None:
    for title, run in (
        ("In-process publish (bench/inprocess.py)", inprocess.main),
        ("Redis Streams (bench/streams.py)", streams.main),
        ("Redis Streams on a cluster vs one Redis (bench/cluster.py)", cluster.main),
        ("RQ (bench/rq_bench.py)", rq_bench.main),
        ("Transactional outbox (bench/outbox.py)", outbox.main),
    ):
        print(f"\n## {title}\n", flush=True)
        run([])


if __name__ == "__main__":
    main()
