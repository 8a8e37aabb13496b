"""The consistency check: derived data (counters kept on write, per-item markers, the public search entries)
recounted from the records, and every difference reported. A maintenance job, not a request path: it reads whole tables (`RecordScan` port)."""

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

    def search_entries_expected(self) -> set[tuple[str, str]]:
        """(pk, sk) of the public search entries the records call for (those of every CONFIRMED record)."""
        ...

    def search_entries_stored(self) -> set[tuple[str, str]]:
        """(pk, sk) of the public search entries in the table."""
        ...


class ConsistencyCheck:
    def __init__(self, scan: RecordScan):
        self.scan = scan

    def run(self) -> dict[str, Any]:
        expected = statistics.expected_state_counts(self.scan.stat_sources())
        stored = self.scan.state_counters()
        differences = statistics.count_differences(expected, stored)
        wanted, found = self.scan.search_entries_expected(), self.scan.search_entries_stored()
        search = [{"entry": f"{pk}|{sk}", "problem": "missing"} for pk, sk in sorted(wanted - found)]
        search += [{"entry": f"{pk}|{sk}", "problem": "stale"} for pk, sk in sorted(found - wanted)]
        return {
            "counters_checked": len(set(expected) | set(stored)),
            "records_counted": sum(expected.values()),
            "differences": differences,
            "search_entries_checked": len(wanted | found),
            "search_differences": search,
            "ok": not differences and not search,
        }
