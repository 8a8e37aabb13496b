"""The durable local AWS (infra/local/durable_moto.py): what a killed process had acknowledged comes back after a
restart — DynamoDB items and unread stream records, S3 objects, queued messages, Cognito users with their sub —
cancelled transactions leave nothing behind, and a torn last journal line is ignored."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Durable:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        env = {**os.environ, "MOTO_PORT": str(self.port)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local.durable_moto", "--data-dir", str(self.data_dir), "-p", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{self.endpoint}/__durable/status", timeout=1)
                break
            except Exception:
                time.sleep(0.05)
        cfg = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        req = urllib.request.Request(f"{self.endpoint}/moto-api/config", data=cfg, method="POST")
        urllib.request.urlopen(req, timeout=5)
        import boto3

        from infra.bootstrap import bootstrap

        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        self.session = boto3.session.Session(region_name="us-east-1")
        self.out = bootstrap(self.session, region="us-east-1", endpoint_url=self.endpoint)
        req = urllib.request.Request(f"{self.endpoint}/__durable/restore", method="POST")
        self.restored = json.loads(urllib.request.urlopen(req, timeout=60).read())
        return self

    def client(self, name: str):
        return self.session.client(name, endpoint_url=self.endpoint)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


@pytest.fixture
def durable(tmp_path, monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
        monkeypatch.setenv(k, v)
    d = Durable(tmp_path / "data")
    yield d
    if d.proc is not None and d.proc.poll() is None:
        d.proc.kill()
    os.environ.pop("AWS_ENDPOINT_URL", None)


def key(pk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "REC"}}


def stream_records(d: Durable, table: str) -> list[tuple[str, str]]:
    streams = d.client("dynamodbstreams")
    arn = d.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return [(r["eventName"], r["dynamodb"]["SequenceNumber"]) for r in streams.get_records(ShardIterator=it)["Records"]]


def test_a_killed_local_aws_comes_back_with_everything_it_acknowledged(durable):
    d = durable.start()
    assert d.restored["items"] == 0
    table, bucket = d.out["env"]["MAIN_TABLE"], d.out["env"]["UPLOAD_BUCKET"]
    ddb = d.client("dynamodb")
    ddb.put_item(TableName=table, Item={**key("ENT#1"), "name": {"S": "义乌甲建设"}})
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": key("ENT#2")}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key("ENT#1"),
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "2"}},
                }
            },
        ]
    )
    ddb.put_item(TableName=table, Item=key("ENT#3"))
    ddb.delete_item(TableName=table, Key=key("ENT#3"))
    d.client("s3").put_object(Bucket=bucket, Key="uploads/a/报告.csv", Body="统一社会信用代码\r\n".encode())
    sqs = d.client("sqs")
    queue = d.out["queues"]["cmsp-import-jobs"]["url"]
    for body in ("job-1", "job-2"):
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)["Messages"][0]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=got["ReceiptHandle"])
    idp = d.client("cognito-idp")
    pool = d.out["user_pool"]["pool_id"]
    idp.admin_create_user(
        UserPoolId=pool, Username="county_new", TemporaryPassword="Abc#123456789", MessageAction="SUPPRESS"
    )
    sub = next(
        a["Value"]
        for a in idp.admin_get_user(UserPoolId=pool, Username="county_new")["UserAttributes"]
        if a["Name"] == "sub"
    )
    before_stream = stream_records(d, table)

    d.kill9()
    d.start()
    ddb = d.client("dynamodb")
    assert ddb.get_item(TableName=table, Key=key("ENT#1"))["Item"]["v"] == {"N": "2"}
    assert "Item" in ddb.get_item(TableName=table, Key=key("ENT#2"))
    assert "Item" not in ddb.get_item(TableName=table, Key=key("ENT#3"))
    assert d.client("s3").get_object(Bucket=bucket, Key="uploads/a/报告.csv")["Body"].read().decode().startswith("统一")
    bodies = [m["Body"] for m in d.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    assert bodies == [{"job-1": "job-2", "job-2": "job-1"}[got["Body"]]]  # the deleted one stays deleted
    assert d.out["user_pool"]["pool_id"] == pool  # deterministic ids: tokens issued before the restart stay valid
    again = d.client("cognito-idp").admin_get_user(UserPoolId=pool, Username="county_new")
    assert next(a["Value"] for a in again["UserAttributes"] if a["Name"] == "sub") == sub
    # unread stream records are there with their sequence numbers, and new ones continue after them
    assert stream_records(d, table) == before_stream
    ddb.put_item(TableName=table, Item=key("ENT#4"))
    after = stream_records(d, table)
    assert after[:-1] == before_stream and int(after[-1][1]) == int(before_stream[-1][1]) + 1


def test_a_cancelled_transaction_leaves_nothing_and_a_torn_line_is_ignored(durable):
    d = durable.start()
    table = d.out["env"]["MAIN_TABLE"]
    ddb = d.client("dynamodb")
    ddb.put_item(TableName=table, Item={**key("ENT#1"), "version": {"N": "1"}})
    stream_before = stream_records(d, table)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": key("ENT#9")}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": key("ENT#1"),
                        "UpdateExpression": "SET version = :n",
                        "ConditionExpression": "version = :old",
                        "ExpressionAttributeValues": {":n": {"N": "3"}, ":old": {"N": "2"}},
                    }
                },
            ]
        )
    assert "Item" not in ddb.get_item(TableName=table, Key=key("ENT#9"))
    assert ddb.get_item(TableName=table, Key=key("ENT#1"))["Item"]["version"] == {"N": "1"}
    assert stream_records(d, table) == stream_before
    d.kill9()
    with open(d.data_dir / "journal.jsonl", "a", encoding="utf-8") as f:
        f.write('{"t": "ddb", "table": "cmsp-main", "h": ')  # the process died while writing this line
    d.start()
    assert d.client("dynamodb").get_item(TableName=table, Key=key("ENT#1"))["Item"]["version"] == {"N": "1"}


def test_a_clean_stop_compacts_the_journal_into_a_snapshot(durable):
    d = durable.start()
    table = d.out["env"]["MAIN_TABLE"]
    for i in range(20):
        d.client("dynamodb").put_item(TableName=table, Item=key(f"ENT#{i}"))
    assert d.stop() == 0
    assert (d.data_dir / "journal.jsonl").read_text() == ""
    assert sum(1 for line in (d.data_dir / "snapshot.jsonl").open() if '"t":"item"' in line) == 20
    d.start()
    assert d.restored["items"] == 20 and d.restored["journal_entries_replayed"] == 0
