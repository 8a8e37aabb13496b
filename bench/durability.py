"""What durability costs the embedded local AWS, measured in one run against a baseline in the same run.

1. Write throughput from one client thread, plain moto (`python -m moto.server`) vs the durable moto
   (`infra/local/durable_moto.py`, journal + fsync every second): PutItem, a two-item TransactWriteItems (the audit
   pattern of every change), BatchWriteItem of 25.
2. The bound on a crash: a write answered 2xx is in the journal (operating system) before its answer; checked
   by reading the journal right after each answer.
3. Restore time for 100,000 items: after SIGKILL (journal replay) and after a clean stop (snapshot load).

Run: .venv/bin/python bench/durability.py [items=100000]
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(durable: bool, data_dir: Path | None, compact_every: int = 20000) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if durable:
        cmd = [sys.executable, "-m", "infra.local.durable_moto", "--data-dir", str(data_dir), "-p", str(port),
               "--compact-every", str(compact_every)]  # fmt: skip
    else:
        cmd = [sys.executable, "-m", "moto.server", "-p", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1)
            break
        except Exception:
            time.sleep(0.05)
    return proc, endpoint


def table(endpoint: str, durable: bool) -> tuple[object, str, dict]:
    import boto3

    from infra.bootstrap import bootstrap

    os.environ["AWS_ENDPOINT_URL"] = endpoint
    session = boto3.session.Session(region_name="us-east-1")
    out = bootstrap(session, region="us-east-1", endpoint_url=endpoint)
    restored = {}
    if durable:
        req = urllib.request.Request(f"{endpoint}/__durable/restore", method="POST")
        restored = json.loads(urllib.request.urlopen(req, timeout=3600).read())
    return session.client("dynamodb", endpoint_url=endpoint), out["env"]["MAIN_TABLE"], restored


def rate(fn, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - started)


def throughput(ddb, name: str, n: int) -> dict[str, float]:
    def put(i):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"P#{i}"}, "sk": {"S": "REC"}, "v": {"N": str(i)}})

    def transact(i):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": f"T#{i}"}, "sk": {"S": "REC"}}}},
                {"Put": {"TableName": name, "Item": {"pk": {"S": f"A#{i}"}, "sk": {"S": "1"}},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ]
        )  # fmt: skip

    def batch(i):
        ddb.batch_write_item(
            RequestItems={
                name: [{"PutRequest": {"Item": {"pk": {"S": f"B#{i}#{j}"}, "sk": {"S": "REC"}}}} for j in range(25)]
            }
        )

    # plain moto's transactions take a third of a second each on a table of a few thousand items: 200 of them
    return {"put_item": rate(put, n), "transact_2": rate(transact, n // 5), "batch_25": rate(batch, n // 5) * 25}


def fill(ddb, name: str, items: int) -> float:
    started = time.perf_counter()
    for start in range(0, items, 25):
        ddb.batch_write_item(
            RequestItems={
                name: [
                    {"PutRequest": {"Item": {"pk": {"S": f"ENT#{k}"}, "sk": {"S": "REC"}, "name": {"S": "义乌市某建设有限公司"},
                                             "state": {"S": "CONFIRMED"}, "version": {"N": "3"}}}}
                    for k in range(start, min(items, start + 25))
                ]
            }
        )  # fmt: skip
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    items = int(argv[1]) if len(argv) > 1 else 100_000
    os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="us-east-1")
    n = 1000
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        plain, ep = start(False, None)
        ddb, name, _ = table(ep, False)
        results["plain"] = throughput(ddb, name, n)
        plain.terminate()
        plain.wait()

        data = Path(tmp) / "data"
        durable, ep = start(True, data)
        ddb, name, _ = table(ep, True)
        results["durable"] = throughput(ddb, name, n)
        # the bound: every answered write is already in the journal
        journal = data / "journal.jsonl"
        misses = 0
        for i in range(200):
            ddb.put_item(TableName=name, Item={"pk": {"S": f"CHK#{i}"}, "sk": {"S": "REC"}})
            if f'"S":"CHK#{i}"' not in journal.read_text("utf-8").rsplit("\n", 3)[-2]:
                misses += 1
        results["answered_but_not_in_journal"] = misses
        durable.send_signal(signal.SIGKILL)
        durable.wait()

        # restore time at scale
        big = Path(tmp) / "big"
        durable, ep = start(True, big, compact_every=10**9)  # no compaction: the kill leaves the whole journal
        ddb, name, _ = table(ep, True)
        fill_s = fill(ddb, name, items)
        durable.send_signal(signal.SIGKILL)
        durable.wait()
        journal_mb = (big / "journal.jsonl").stat().st_size / 1_048_576
        durable, ep = start(True, big)
        t0 = time.perf_counter()
        ddb, name, restored = table(ep, True)
        after_kill_s = time.perf_counter() - t0
        durable.send_signal(signal.SIGTERM)
        durable.wait(timeout=600)
        snapshot_mb = (big / "snapshot.jsonl").stat().st_size / 1_048_576
        durable, ep = start(True, big)
        t0 = time.perf_counter()
        ddb, name, restored2 = table(ep, True)
        after_stop_s = time.perf_counter() - t0
        count = ddb.describe_table(TableName=name)["Table"]["ItemCount"]
        durable.send_signal(signal.SIGKILL)
        durable.wait()

    print(
        f"write throughput, one client thread, {n} put_item, {n // 5} transact_2 and batch_25 requests (requests/s; batch: items/s)"
    )
    print("| operation | plain moto | durable moto | ratio durable/plain |")
    print("|---|---|---|---|")
    for op in ("put_item", "transact_2", "batch_25"):
        p, d = results["plain"][op], results["durable"][op]
        print(f"| {op} | {p:.0f} | {d:.0f} | {d / p:.2f} |")
    print(
        f"answered writes missing from the journal at the moment of the answer: {results['answered_but_not_in_journal']} of 200"
    )
    print(f"restore of {items} items (filled in {fill_s:.1f} s):")
    print(f"  after SIGKILL: journal {journal_mb:.1f} MiB replayed, restore {restored['restore_ms'] / 1000:.2f} s, "
          f"compaction {restored['compaction']['ms'] / 1000:.2f} s, startup incl. bootstrap {after_kill_s:.2f} s")  # fmt: skip
    print(f"  after a clean stop: snapshot {snapshot_mb:.1f} MiB, restore {restored2['restore_ms'] / 1000:.2f} s, "
          f"startup incl. bootstrap {after_stop_s:.2f} s; items in the table: {count}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
