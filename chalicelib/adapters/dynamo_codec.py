"""Plain Python values <-> DynamoDB typed attribute values (low-level client format)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_ser = TypeSerializer()
_de = TypeDeserializer()


def _prepare(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        # Nested None values are kept (as NULL) so a required-but-empty field reads back as it was written.
        return {k: _prepare(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_prepare(v) for v in value]
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    if isinstance(value, set):
        return {_restore(v) for v in value}
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Top-level None values are dropped: such attributes are absent rather than null (keeps sparse indexes sparse)."""
    return {k: _ser.serialize(_prepare(v)) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _restore(_de.deserialize(v)) for k, v in item.items()}


def to_value(value: Any) -> dict[str, Any]:
    return _ser.serialize(_prepare(value))


# Key and index attributes the adapters add to items; never part of a model.
INDEX_KEYS = (
    "pk",
    "sk",
    "gsi1pk",
    "gsi1sk",
    "gsi2pk",
    "gsi2sk",
    "gsi3pk",
    "gsi3sk",
    "gsi4pk",
    "gsi4sk",
    "gsi5pk",
    "gsi5sk",
    "gsi6pk",
    "gsi6sk",
    "entity",
)


def model_data(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as plain data for its pydantic model (index keys removed)."""
    data = from_item(item)
    for k in INDEX_KEYS:
        data.pop(k, None)
    return data


def put_new(table: str, item: dict[str, Any]) -> dict[str, Any]:
    """TransactWriteItems Put of an item that must not exist yet."""
    return {"Put": {"TableName": table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}


def put_versioned(table: str, item: dict[str, Any], expected_version: int) -> dict[str, Any]:
    """TransactWriteItems Put that only succeeds if the stored item still has `expected_version` (optimistic lock)."""
    return {
        "Put": {
            "TableName": table,
            "Item": to_item(item),
            "ConditionExpression": "#v = :expected",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":expected": to_value(expected_version)},
        }
    }


def query_all(ddb: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a Query matches, following LastEvaluatedKey page by page (for bounded result sets)."""
    while True:
        resp = ddb.query(**kwargs)
        yield from resp.get("Items", [])
        if not resp.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def count_all(ddb: Any, **kwargs: Any) -> int:
    """How many items a Query matches (Select=COUNT, following LastEvaluatedKey)."""
    total = 0
    kwargs["Select"] = "COUNT"
    while True:
        resp = ddb.query(**kwargs)
        total += int(resp.get("Count", 0))
        if not resp.get("LastEvaluatedKey"):
            return total
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def query_page(ddb: Any, kwargs: dict[str, Any], cursor: dict | None) -> tuple[list[dict[str, Any]], dict | None]:
    """One page of a Query from a cursor (the previous page's LastEvaluatedKey): items and the next cursor."""
    if cursor:
        kwargs = {**kwargs, "ExclusiveStartKey": cursor}
    resp = ddb.query(**kwargs)
    return resp.get("Items", []), resp.get("LastEvaluatedKey")
