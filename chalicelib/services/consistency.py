"""The consistency check: derived data (counters kept on write, per-item markers) recounted from the records, and
every difference reported. A maintenance job, not a request path: it reads whole tables (`RecordScan` port)."""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.domain import statistics


class RecordScan(Protocol):
    def stat_sources(self) -> Any:
        """(entity, data) of every item the statistics count (registry records, permits, credit, sync rows)."""
        ...

    def state_counters(self) -> dict[str, int]:
        """Stored state counters: bucket id -> n."""
        ...


class ConsistencyCheck:
    def __init__(self, scan: RecordScan):
        self.scan = scan

    def run(self) -> dict[str, Any]:
        expected = statistics.expected_state_counts(self.scan.stat_sources())
        stored = self.scan.state_counters()
        differences = statistics.count_differences(expected, stored)
        return {
            "counters_checked": len(set(expected) | set(stored)),
            "records_counted": sum(expected.values()),
            "differences": differences,
            "ok": not differences,
        }
