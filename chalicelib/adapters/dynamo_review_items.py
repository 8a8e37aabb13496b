"""Item layouts of the review workflow (written in the same transaction as the record they belong to).

  snapshot          pk = record pk, sk = "SNAP#{record sk}#{seq:06d}"
  decision          pk = "DEC#{decision_id}", sk = "DEC"            (id derived from record, version, outcome)
  credit record     pk = "CREDIT#{credit_id}", sk = "CREDIT"        (gsi2: ORG#{owner}, gsi1: CREDIT#{city})
  supplement req.   pk = "REQ#{request_id}", sk = "REQ"             (gsi3: REQREC#{T}#{record}; gsi2 ORG#{owner}
                                                                      only once SENT: drafts are invisible to the
                                                                      enterprise)
  SLA counters      pk = "STAT#SLA#{county}", sk = "M#{yyyy-mm}"     (ADD in the decision's transaction)
Review queues live on the record items themselves (gsi4 by county, gsi5 by city; see dynamo_registry).
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo_codec import model_data, put_new, put_versioned, to_item, to_value
from chalicelib.domain import identifiers
from chalicelib.domain.credit import CreditRecord
from chalicelib.domain.records import RecordState
from chalicelib.domain.registry_base import RecordBase
from chalicelib.domain.review import RequestState, SupplementRequest
from chalicelib.services.ports import Extras, QueueQuery

_TYPE = {"enterprise": "ENT", "person": "PER", "project": "PRJ"}


def strip(item: dict[str, Any]) -> dict[str, Any]:
    return model_data(item)


def _record_keys(record: RecordBase) -> tuple[str, str, str]:
    from chalicelib.adapters.dynamo_registry import item_key, record_key

    pk, sk = item_key(record.RECORD_TYPE, record_key(record))
    return pk, sk, "#".join(record_key(record))


def credit_item(c: CreditRecord) -> dict[str, Any]:
    """Every index of a credit record sorts by the end of its publication period, so "still public today" is a key
    condition (sk >= today): expired records drop out of every listing and score without any sweep or scan."""
    data = c.model_dump(mode="json")
    data.update(pk=f"CREDIT#{c.credit_id}", sk="CREDIT", entity="credit")
    if c.owner_uscc:
        data.update(gsi2pk=f"ORG#{c.owner_uscc}", gsi2sk=f"CREDIT#{c.publish_end}#{c.credit_id}")
    if c.region_code:
        city = identifiers.city_of(c.region_code) or c.region_code
        data.update(gsi1pk=f"CREDIT#{city}#{c.kind.value}", gsi1sk=f"{c.publish_end}#{c.region_code}#{c.credit_id}")
    data.update(gsi3pk=f"SUBJ#{c.subject_type}#{c.subject_id}", gsi3sk=f"{c.publish_end}#{c.credit_id}")
    # the whole province's public list (诚信网 front page): by kind, longest-public (newest) first
    data.update(gsi6pk=f"CREDITP#{c.kind.value}", gsi6sk=f"{c.publish_end}#{c.credit_id}")
    if c.rectification_state == "REQUESTED" and c.region_code:
        # officials' queue of rectification requests (sparse: only while waiting for a decision)
        city = identifiers.city_of(c.region_code) or c.region_code
        data.update(gsi4pk=f"RECTQ#{city}", gsi4sk=f"{c.region_code}#{c.credit_id}")
    return data


def bigrams(text: str | None) -> list[str]:
    """Character bigrams of a Chinese name (punctuation and spaces dropped); a one-character name is its own key."""
    chars = [c for c in (text or "") if c.isalnum()]
    if len(chars) == 1:
        return chars
    return sorted({chars[i] + chars[i + 1] for i in range(len(chars) - 1)})[:60]


def name_index_items(record: RecordBase) -> list[dict[str, Any]]:
    """Public search entries of a confirmed record: one per name bigram (and per qualification code)."""
    _, _, rid = _record_keys(record)
    return index_entries(record.RECORD_TYPE.value, rid, record.data(), record.region_code)


def index_entries(record_type: str, rid: str, data: dict[str, Any], region: str | None) -> list[dict[str, Any]]:
    """The search entries of a record's business data (a dict: a stored record or an audit draft's `before`)."""
    t = _TYPE[record_type]
    name = data.get("name")
    base: dict[str, Any] = {"entity": "name_index", "record_id": rid, "name": name, "region_code": region}
    if t == "PER":
        base["reg_types"] = sorted({r.get("reg_type") for r in data.get("registrations") or [] if r.get("reg_type")})
    if t == "ENT":
        base["quals"] = sorted(
            {i.get("code") for q in data.get("qualifications") or [] for i in q.get("items") or [] if i.get("code")}
        )
    items = [{**base, "pk": f"NG#{t}#{g}", "sk": rid} for g in bigrams(name)]
    for code in base.get("quals", []):
        items.append({**base, "pk": f"QUAL#{code}", "sk": rid})
    return items


def search_index_writes(table: str, record: RecordBase, before: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The public search entries follow the record's state, whatever wrote it (review, import, portal, national pull,
    demo seed): a record that is CONFIRMED (入库) is searchable by its current name and qualifications, and the
    entries of the version before it (`before`: the audit draft's state and data) that no longer hold are removed.
    One mechanism, in the same transaction as the record."""
    _, _, rid = _record_keys(record)
    after = name_index_items(record) if record.state == RecordState.CONFIRMED else []
    previous: list[dict[str, Any]] = []
    if before and before.get("state") == RecordState.CONFIRMED.value:
        previous = index_entries(record.RECORD_TYPE.value, rid, before, before.get("region_code"))
    keep = {(i["pk"], i["sk"]) for i in after}
    writes = [
        {"Delete": {"TableName": table, "Key": {"pk": {"S": i["pk"]}, "sk": {"S": i["sk"]}}}}
        for i in previous
        if (i["pk"], i["sk"]) not in keep
    ]
    writes += [{"Put": {"TableName": table, "Item": to_item(i)}} for i in after]
    return writes


def request_item(r: SupplementRequest) -> dict[str, Any]:
    data = r.model_dump(mode="json")
    data.update(pk=f"REQ#{r.request_id}", sk="REQ", entity="supplement_request")
    data.update(
        gsi3pk=f"REQREC#{_TYPE[r.record_type]}#{'#'.join(r.record_key)}", gsi3sk=f"{r.created_at}#{r.request_id}"
    )
    if r.state != RequestState.DRAFT and r.owner_uscc:
        data.update(gsi2pk=f"ORG#{r.owner_uscc}", gsi2sk=f"REQ#{r.sent_at or r.created_at}#{r.request_id}")
    return data


def request_write(table: str, r: SupplementRequest, expected_version: int | None) -> dict[str, Any]:
    if expected_version is None:
        return put_new(table, request_item(r))
    return put_versioned(table, request_item(r), expected_version)


def extra_writes(table: str, record: RecordBase, extras: Extras) -> list[dict[str, Any]]:
    writes: list[dict[str, Any]] = []
    pk, sk, _ = _record_keys(record)
    if extras.snapshot is not None:
        snap = extras.snapshot.model_dump(mode="json")
        snap.update(pk=pk, sk=f"SNAP#{sk}#{extras.snapshot.seq:06d}", entity="snapshot")
        writes.append(put_new(table, snap))
    if extras.decision is not None:
        dec = extras.decision.model_dump(mode="json")
        dec.update(pk=f"DEC#{extras.decision.decision_id}", sk="DEC", entity="decision")
        writes.append(put_new(table, dec))
    if extras.credit is not None:
        writes.append(put_new(table, credit_item(extras.credit)))
    if extras.request is not None:
        writes.append(request_write(table, extras.request, extras.request_expected_version))
    if (extras.sla_delta or extras.decided) and record.region_code:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        parts = []
        for i, (k, v) in enumerate(sorted((extras.sla_delta or {}).items())):
            names[f"#n{i}"] = k.replace(":", "_") + "_seconds"
            values[f":v{i}"] = to_value(round(v, 3))
            parts.append(f"#n{i} :v{i}")
        if extras.decided:
            names["#d"] = "decisions"
            values[":one"] = to_value(1)
            parts.append("#d :one")
        month = record.updated_at[:7]
        writes.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": f"STAT#SLA#{record.region_code}"}, "sk": {"S": f"M#{month}"}},
                    "UpdateExpression": "ADD " + ", ".join(parts),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )
    return writes


def queue_query(table: str, q: QueueQuery, limit: int) -> dict[str, Any]:
    if q.county:
        index, pk_name, sk_name, pk = "gsi4", "gsi4pk", "gsi4sk", f"RQ#{q.county}#{q.state.value}"
    elif q.city:
        index, pk_name, sk_name, pk = "gsi5", "gsi5pk", "gsi5sk", f"RQC#{q.city}#{q.state.value}"
    else:
        index, pk_name, sk_name, pk = "gsi6", "gsi6pk", "gsi6sk", f"RQP#{q.state.value}"
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": f"{pk_name} = :p",
        "ExpressionAttributeValues": {":p": {"S": pk}},
        "Limit": limit,
    }
    if q.waiting_before:
        kwargs["KeyConditionExpression"] += f" AND {sk_name} < :t"
        kwargs["ExpressionAttributeValues"][":t"] = {"S": q.waiting_before}
    filters, names = [], {}
    if q.record_type is not None:
        filters.append("entity = :e")
        kwargs["ExpressionAttributeValues"][":e"] = {"S": q.record_type.value}
    if q.assignee:
        filters.append("#r.assignee = :a")
        names["#r"] = "review"
        kwargs["ExpressionAttributeValues"][":a"] = {"S": q.assignee}
    if q.escalated_only:
        filters.append("#r.responsible_level <> :county")
        names["#r"] = "review"
        kwargs["ExpressionAttributeValues"][":county"] = {"S": "county"}
    if filters:
        kwargs["FilterExpression"] = " AND ".join(filters)
        if names:
            kwargs["ExpressionAttributeNames"] = names
    return kwargs
