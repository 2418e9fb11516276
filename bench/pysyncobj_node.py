"""One PySyncObj key/value node for bench/kv_throughput.py (not run by hand).

`python bench/pysyncobj_node.py SELF PEER,PEER DIR`: a replica that is also a load driver.
It prints `{"ready": true}` once a leader is known, then reads requests on standard input:
`who` (answers whether it leads) and rows (`put 16 3.0`: that many closed-loop clients through
this node for that many seconds; one JSON line of latencies). PySyncObj has no client
protocol: calls are made on a replica, and a follower forwards them to the leader and learns
of their commit only at the next heartbeat (100 ms), so the benchmark drives the leader.
Puts and gets are both `@replicated` methods, so a get goes through the log (linearizable),
as ours does. `appendEntriesUseBatch=False` sends each command at once (the library's
low-latency setting; batching waits for the next tick).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from pysyncobj import SyncObj, SyncObjConf, replicated


class KV(SyncObj):  # type: ignore[misc]
    def __init__(self, me: str, peers: list[str], directory: str) -> None:
        conf = SyncObjConf(journalFile=f"{directory}/journal", fullDumpFile=f"{directory}/dump",
                           dynamicMembershipChange=False, appendEntriesUseBatch=False)
        super().__init__(me, peers, conf)
        self.data: dict[str, str] = {}

    @replicated  # type: ignore[misc]
    def put(self, key: str, value: str) -> None:
        self.data[key] = value

    @replicated  # type: ignore[misc]
    def get(self, key: str) -> str:
        return self.data.get(key, "")


def run_row(node: KV, kind: str, clients: int, seconds: float, value: str) -> dict[str, Any]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    finished = threading.Semaphore(0)
    errors = [0]

    def start(client: int, n: int) -> None:
        if time.monotonic() >= stop_at:
            finished.release()
            return
        began = time.monotonic()
        key = f"k{client}-{n % 100}"

        def done(_result: Any, error: Any) -> None:
            with lock:
                if error == 0:  # FAIL_REASON.SUCCESS
                    latencies.append(time.monotonic() - began)
                else:
                    errors[0] += 1
            start(client, n + 1)
        if kind == "put":
            node.put(key, value, callback=done)
        else:
            node.get(key, callback=done)

    began = time.monotonic()
    for client in range(clients):
        start(client, 0)
    for _ in range(clients):
        finished.acquire(timeout=seconds + 30)
    return {"seconds": time.monotonic() - began, "latencies": latencies, "errors": errors[0]}


def main() -> None:
    me, peers, directory = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
    node = KV(me, peers, directory)
    while not node.isReady() or node._getLeader() is None:
        time.sleep(0.05)
    print(json.dumps({"ready": True}), flush=True)
    value = "v" * 100
    for line in sys.stdin:
        if line.strip() == "who":
            print(json.dumps({"leader": bool(node._isLeader())}), flush=True)
            continue
        kind, clients, seconds = line.split()
        print(json.dumps(run_row(node, kind, int(clients), float(seconds), value)), flush=True)


if __name__ == "__main__":
    main()
