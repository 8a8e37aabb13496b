"""Synchronisation with the national (MOHURD) database: change capture, push, pull, and the officials' views.

- `capture`: fed by the main table's change stream. A reportable source (confirmed record, issued permit, published
  bad-behaviour record) is mapped to national rows; rows whose content changed since the last capture are marked
  "已修改，未上报" (queued in a sparse index). Replays of the same stream record change nothing (the manifest keeps
  the stream sequence number; the row keeps the digest of its content).
- `push` (schedule): reads only queued rows whose time has come, in batches per data set. Each record version has
  an idempotency key (`sync_id`); after a request without an answer the job asks the national side which versions
  it stored before sending any of them again, so nothing accepted is sent twice. Transient failures back off
  (exponential, full jitter) inside the run and across runs; a rejection by the ministry, or too many failures,
  puts the row in the dead-letter view with the server's message. A change made while a row was in flight keeps
  the row queued (the outcome is written only if the row's change number is still the one that was sent).
- `pull` (schedule): national records for the province (enterprises and persons from other provinces working in
  Zhejiang, national credit records about provincial subjects) are stored as mirrors, never over provincial data;
  a national value that differs from a field the province is authoritative for is listed as a conflict.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import national
from chalicelib.domain.audit import AuditAction, AuditDraft, RequestMeta
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.identity import PROVINCE_ROLES, Principal, require_role
from chalicelib.domain.national import Op, Outcome, SyncRow, SyncStatus
from chalicelib.services.ports import NationalPlatform, NationalUnavailable, SourceChange, SyncStore

PUSH_LEASE = "push"


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds")


class NationalSyncService:
    def __init__(
        self,
        store: SyncStore,
        platform: NationalPlatform,
        resolver: national.Resolver,
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        person_key: Callable[[str, str], str],
    ):
        self.store = store
        self.platform = platform
        self.resolver = resolver
        self.clock = clock or utcnow
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.monotonic = monotonic
        self.person_key = person_key
        self.cfg = national.config()

    # ---- change capture -------------------------------------------------------------------------------------------

    def capture(self, changes: list[SourceChange]) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for change in changes:
            if change.source is None:
                counts["ignored"] += 1
                continue
            mapped = national.map_source(change.source, self.resolver)
            if mapped.rows is None:
                counts["ignored"] += 1
                continue
            manifest, seen_seq = self.store.manifest(change.source_pk, change.source_sk)
            if seen_seq and seen_seq >= change.seq:
                counts["replayed"] += 1
                continue
            result = national.capture(mapped, manifest)
            if result is None:
                continue
            now = _iso(self.clock())
            source = {"pk": change.source_pk, "sk": change.source_sk}
            region = getattr(change.source, "region_code", None)
            for row in result.changed:
                if self.store.mark_changed(row, source=source, region_code=region, now=now):
                    counts["queued"] += 1
            self.store.save_manifest(change.source_pk, change.source_sk, result.manifest, change.seq)
            counts["captured"] += 1
        return dict(counts)

    # ---- push -----------------------------------------------------------------------------------------------------

    def push(self, *, budget_seconds: float | None = None) -> dict[str, Any]:
        p = self.cfg["push"]
        budget = float(budget_seconds if budget_seconds is not None else p["run_budget_seconds"])
        owner = uuid.uuid4().hex
        start = self.clock()
        if not self.store.acquire_lease(PUSH_LEASE, owner, _iso(start), _iso(start + timedelta(seconds=budget + 300))):
            return {"skipped": "另一个上报任务正在运行"}
        deadline = self.monotonic() + budget
        size, page = int(p["batch_size"]), int(p["batch_size"]) * int(p["batches_per_read"])
        totals: dict[str, Counter[str]] = {}
        try:
            for dataset, token in self.store.queued_datasets().items():
                if dataset not in national.datasets():
                    continue
                counts = totals.setdefault(dataset, Counter())
                while self.monotonic() < deadline:
                    rows = self.store.due(dataset, _iso(self.clock()), page)
                    for i in range(0, len(rows), size):
                        if self.monotonic() >= deadline:
                            break
                        self._deliver(dataset, rows[i : i + size], counts, deadline)
                    if len(rows) < page:
                        break
                oldest = self.store.oldest_queued(dataset)
                if counts:
                    # Everything queued before the oldest change still waiting (or before this run) is final.
                    self.store.add_stats(dataset, dict(counts), run_at=_iso(self.clock()), hwm=oldest or _iso(start))
                if oldest is None:
                    self.store.clear_queued(dataset, token)  # conditional: a row queued meanwhile keeps the marker
        finally:
            self.store.release_lease(PUSH_LEASE, owner)
        return {ds: dict(c) for ds, c in totals.items() if c}

    def _deliver(self, dataset: str, rows: list[SyncRow], counts: Counter[str], deadline: float) -> None:
        p = self.cfg["push"]
        batch_id = uuid.uuid4().hex[:16]
        # A row that does not fit the standard's table (unknown column, wrong type, too long) would only be refused
        # by the ministry: it goes to the dead letters at once with the reason, and is never sent.
        fitting = []
        for r in rows:
            problems = national.column_problems(dataset, r.data) if r.op == Op.UPSERT else []
            if problems:
                message = {"code": "NOT_IN_STANDARD", "message": "不符合国家数据标准：" + "；".join(problems)[:900]}
                self._note(r, batch_id, 0, "REJECTED", message)
                self._finish(r, Outcome.REJECTED, message)
                counts["rejected"] += 1
            else:
                fitting.append(r)
        rows = fitting
        open_rows = {r.sync_id: r for r in rows}
        last: dict[str, tuple[Outcome, dict[str, Any] | None]] = {}
        requests: list[dict[str, Any]] = []
        unknown = {r.sync_id for r in rows if r.status == SyncStatus.UNKNOWN}
        tries = int(p["batch_tries"])
        for attempt in range(tries):
            if not open_rows or (attempt and self.monotonic() >= deadline):
                break
            asking = sorted(unknown & open_rows.keys())
            if asking:
                # The last request for these versions got no answer: ask before sending any of them again.
                try:
                    known = self.platform.status(asking)
                except NationalUnavailable as e:
                    requests.append(self._request_log(batch_id, attempt, "status", asking, None, {"error": str(e)}))
                    for sid in asking:
                        last[sid] = (Outcome.UNKNOWN, {"code": "STATUS_UNAVAILABLE", "message": f"状态查询失败：{e}"})
                    break
                requests.append(self._request_log(batch_id, attempt, "status", asking, None, known))
                for sid, state in known.items():
                    if state == "ACCEPTED" and sid in open_rows:
                        row = open_rows.pop(sid)
                        note = {"code": "CONFIRMED_BY_STATUS", "message": "国家平台确认此前已接收"}
                        self._note(row, batch_id, attempt, "ACCEPTED", note)
                        self._finish(row, Outcome.ACCEPTED, None)
                        counts["accepted"] += 1
                unknown -= set(known)
                if not open_rows:
                    break
            payload = [r.payload() for r in open_rows.values()]
            reply = self.platform.push(dataset, batch_id, payload)
            counts["sent"] += len(open_rows)
            requests.append(
                self._request_log(
                    batch_id,
                    attempt,
                    "push",
                    list(open_rows),
                    payload,
                    {"kind": reply.kind, "http": reply.http_status, "message": reply.message, "results": reply.results},
                )
            )
            if reply.kind == "OK":
                by_id = {str(res.get("sync_id")): res for res in reply.results}
                for sid in list(open_rows):
                    res = by_id.get(sid) or {}
                    status = str(res.get("status") or "RETRY")
                    message = {
                        "code": res.get("code", "NO_RESULT"),
                        "message": res.get("message", "国家平台未返回该记录的结果"),
                        "http": 200,
                    }
                    self._note(open_rows[sid], batch_id, attempt, status, message)
                    if status == "ACCEPTED":
                        self._finish(open_rows.pop(sid), Outcome.ACCEPTED, None)
                        counts["accepted"] += 1
                    elif status == "REJECTED":
                        self._finish(open_rows.pop(sid), Outcome.REJECTED, message)
                        counts["rejected"] += 1
                    else:
                        last[sid] = (Outcome.RETRY, message)
                wait = 0.0
            else:
                outcome = Outcome.UNKNOWN if reply.kind == "UNKNOWN" else Outcome.RETRY
                message = {
                    "code": f"HTTP_{reply.http_status}" if reply.http_status else "NO_ANSWER",
                    "message": reply.message,
                    "http": reply.http_status,
                }
                for sid, row in open_rows.items():
                    last[sid] = (outcome, message)
                    self._note(row, batch_id, attempt, outcome.value, message)
                if outcome == Outcome.UNKNOWN:
                    unknown |= set(open_rows)
                wait = reply.retry_after or 0.0
            if open_rows and attempt + 1 < tries:
                base, cap = float(p["backoff_base_seconds"]), float(p["backoff_cap_seconds"])
                self.sleep(max(wait, national.backoff(attempt, base=base, cap=cap, rng=self.rng)))
        for sid, row in open_rows.items():
            outcome, message = last.get(sid, (Outcome.RETRY, {"code": "NOT_SENT", "message": "本次运行时间用尽"}))
            if sid in unknown:
                outcome = Outcome.UNKNOWN
            final = self._finish(row, outcome, message)
            counts["dead" if final.status == SyncStatus.DEAD else "retry_later"] += 1
        self.store.append_request_logs(requests)

    def _finish(self, row: SyncRow, outcome: Outcome, message: dict[str, Any] | None) -> SyncRow:
        now = self.clock()
        row = national.after(row, outcome, now=now, message=message, wait=national.record_wait(row.attempts, self.rng))
        self.store.save_outcome(row)
        return row

    def _note(self, row: SyncRow, batch_id: str, attempt: int, status: str, response: dict[str, Any]) -> None:
        """The row's own push log (kept on the row, newest last): which request, what came back."""
        national.note(
            row,
            {
                "at": _iso(self.clock()),
                "batch_id": batch_id,
                "try": attempt,
                "sync_id": row.sync_id,
                "change_no": row.change_no,
                "attempt": row.attempts + 1,
                "status": status,
                **response,
            },
        )

    def _request_log(
        self,
        batch_id: str,
        attempt: int,
        kind: str,
        sync_ids: list[str],
        records: list[dict[str, Any]] | None,
        response: Any,
    ) -> dict[str, Any]:
        return {
            "batch_id": batch_id,
            "try": attempt,
            "kind": kind,
            "at": _iso(self.clock()),
            "sync_ids": sync_ids,
            "records": records,
            "response": response,
        }

    # ---- pull -----------------------------------------------------------------------------------------------------

    def pull(self, *, budget_seconds: float | None = None) -> dict[str, Any]:
        cfg = self.cfg["pull"]
        deadline = self.monotonic() + float(budget_seconds or cfg["run_budget_seconds"])
        out: dict[str, Any] = {}
        for dataset in cfg["datasets"]:
            counts: Counter[str] = Counter()
            cursor = self.store.pull_cursor(dataset)
            while self.monotonic() < deadline:
                try:
                    page = self.platform.pull(dataset, cursor, int(cfg["page_size"]))
                except NationalUnavailable as e:
                    counts["unavailable"] += 1
                    out.setdefault("errors", []).append(f"{dataset}: {e}")
                    break
                for rec in page.get("records") or []:
                    counts[self._merge(dataset, rec)] += 1
                new = str(page.get("next_cursor") or cursor or "")
                if new and new != cursor:
                    if not self.store.save_pull_cursor(dataset, cursor, new, _iso(self.clock())):
                        counts["cursor_moved_by_another_run"] += 1
                        break
                    cursor = new
                if not page.get("has_more"):
                    break
            out[dataset] = dict(counts)
        return out

    def _merge(self, dataset: str, rec: dict[str, Any]) -> str:
        key, seq, data = str(rec.get("key") or ""), int(rec.get("seq") or 0), dict(rec.get("data") or {})
        if not key or not seq:
            return "malformed"
        province = self.cfg["pull"]["province"]
        subject = national.normalise_corp_code(data.get("CorpCode"))
        pkey = None
        if dataset == "TBRegPersonRegInfo":
            # No ID number in any key, and none stored in clear: the mirror keeps the person key and a masked number.
            id_no = str(data.get("IDCard18") or "")
            pkey = self.person_key(str(data.get("IDCardTypeNum") or "1"), id_no)
            key = f"{pkey}:{subject or ''}"
            data = {**data, "IDCard18": national.mask_id(id_no)}
        ours = self._provincial(dataset, data, pkey)
        found = national.conflicts(dataset, data, ours) if ours is not None else []
        if found:
            self.store.put_conflict(
                {
                    "dataset": dataset,
                    "key": key,
                    "national_seq": seq,
                    "detected_at": _iso(self.clock()),
                    "subject": subject,
                    "fields": [{"field": c.field, "national": c.national, "provincial": c.provincial} for c in found],
                }
            )
        is_provincial_subject = bool(subject and subject[2:4] == province[:2])
        stored = self.store.put_mirror(dataset, key, seq, data, subject=subject if is_provincial_subject else None)
        if ours is not None:
            return "conflict" if found else "matched"
        return "stored" if stored else "unchanged"

    def _provincial(self, dataset: str, data: dict[str, Any], person_key: str | None) -> dict[str, Any] | None:
        """The provincial record the national one describes, as national columns (None: not ours)."""
        code = national.normalise_corp_code(data.get("CorpCode"))
        if not code or len(code) != 18:
            return None  # an organisation code alone cannot be matched to a USCC without guessing
        if dataset == "TBCorpBasicInfo":
            e = self.resolver.enterprise(code)
            return national.enterprise_rows(e)[0].data if e is not None else None
        if dataset == "TBRegPersonRegInfo" and person_key:
            p = self.resolver.person(person_key, code)
            if p is None or p.employer_uscc != code:
                return None
            rows = national.person_rows(p)
            same = [r.data for r in rows if r.data.get("SpecialtyTypNum") == data.get("SpecialtyTypNum")]
            return (same or [r.data for r in rows] or [None])[0]
        return None

    # ---- officials' views -----------------------------------------------------------------------------------------

    def report(self, actor: Principal) -> dict[str, Any]:
        """对账报告 for province officials."""
        require_role(actor, *PROVINCE_ROLES)
        return self.reconciliation()

    def reconciliation(self) -> dict[str, Any]:
        """Per data set: pushed, accepted, rejected (counters), pending, dead-lettered, oldest pending (indexes)."""
        stats = self.store.stats()
        rows = []
        for dataset, meta in national.datasets().items():
            s = stats.get(dataset, {})
            q = self.store.queue_state(dataset)
            rows.append(
                {
                    "dataset": dataset,
                    "label": meta["label"],
                    "pushed": int(s.get("sent", 0)),
                    "accepted": int(s.get("accepted", 0)),
                    "rejected": int(s.get("rejected", 0)),
                    "pending": q["pending"],
                    "dead": q["dead"],
                    "oldest_pending_change": q["oldest_pending_change"],
                    "high_water_mark": s.get("hwm"),
                    "last_run_at": s.get("last_run_at"),
                }
            )
        return {"generated_at": _iso(self.clock()), "datasets": rows}

    def dead_letters(self, actor: Principal, dataset: str, *, limit: int, cursor: dict | None):
        require_role(actor, *PROVINCE_ROLES)
        self._known(dataset)
        return self.store.dead(dataset, limit=limit, cursor=cursor)

    def row(self, actor: Principal, dataset: str, key: str) -> tuple[SyncRow, list[dict[str, Any]]]:
        require_role(actor, *PROVINCE_ROLES)
        self._known(dataset)
        row = self.store.get_row(dataset, key)
        if row is None:
            raise NotFound("没有该上报记录")
        return row, list(reversed(row.history))

    def resend(self, actor: Principal, dataset: str, key: str, reason: str, meta: RequestMeta) -> SyncRow:
        require_role(actor, *PROVINCE_ROLES)
        self._known(dataset)
        row = self.store.get_row(dataset, key)
        if row is None:
            raise NotFound("没有该上报记录")
        before = {"status": row.status.value, "attempts": row.attempts, "last_error": row.last_error}
        now = self.clock()
        row = national.resend(row, now=now)
        draft = AuditDraft(
            target_type="SYNC",
            target_id=f"{dataset}:{key}",
            action=AuditAction.SYNC_RESENT,
            target_region=row.region_code,
            before=before,
            after={"status": row.status.value, "change_no": row.change_no},
            note=reason,
        )
        if not self.store.requeue(row, _iso(now), draft, actor, meta):
            raise Conflict("该记录已被他人处理或已更新，请刷新后重试")
        return row

    def request_log(self, actor: Principal, batch_id: str) -> list[dict[str, Any]]:
        """Every request of one batch (push and status queries) with the national side's full answer."""
        require_role(actor, *PROVINCE_ROLES)
        entries = self.store.request_logs(batch_id)
        if not entries:
            raise NotFound("没有该批次的推送记录")
        return entries

    def conflicts(self, actor: Principal, *, limit: int, cursor: dict | None):
        require_role(actor, *PROVINCE_ROLES)
        return self.store.conflicts(limit=limit, cursor=cursor)

    def national_records(self, actor: Principal, dataset: str, *, limit: int, cursor: dict | None):
        require_role(actor, *PROVINCE_ROLES)
        if dataset not in self.cfg["pull"]["datasets"]:
            raise InvalidInput(f"不支持的数据集：{dataset}")
        return self.store.mirrors(dataset, limit=limit, cursor=cursor)

    def _known(self, dataset: str) -> None:
        if dataset not in national.datasets():
            raise InvalidInput(f"不支持的数据集：{dataset}")
