"""Presigned upload -> S3 -> SQS -> the real handler, on in-process moto; duplicates, poison messages, expiry."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from chalicelib.names import UPLOAD_EVENTS_QUEUE
from infra.local.pumps import SqsPoller

JSON = {"Content-Type": "application/json"}
CSV = "text/csv"


def body(resp):
    return json.loads(resp.body)


def request_upload(client, headers, *, kind="enterprise_sheet", filename="企业信息表.csv", content_type=CSV, size=64):
    resp = client.http.post(
        "/uploads",
        headers={**JSON, **headers},
        body=json.dumps({"kind": kind, "filename": filename, "content_type": content_type, "size": size}),
    )
    assert resp.status_code == 201, resp.body
    return body(resp)


def post_file(ticket, content: bytes, content_type: str = CSV, **field_overrides):
    import requests

    post = ticket["post"]
    fields = {**post["fields"], **field_overrides}
    resp = requests.post(post["url"], data=fields, files={"file": ("f", content, content_type)}, timeout=10)
    assert resp.status_code in (200, 204), resp.text


def poller(app, platform, stop=None):
    from app import app as the_app

    sqs = platform["session"].client("sqs")
    info = platform["queues"][UPLOAD_EVENTS_QUEUE]
    return SqsPoller(
        name="on_upload_object_created",
        handler=the_app.handler_map["on_upload_object_created"],
        sqs=sqs,
        queue_url=info["url"],
        queue_arn=info["arn"],
        batch_size=10,
        region="us-east-1",
        stop=stop or threading.Event(),
        retry_backoff_seconds=0,
        wait_seconds=0,
    )


def drain(p, rounds=5):
    total = 0
    for _ in range(rounds):
        total += p.poll_once()
    return total


def test_upload_reaches_the_handler_and_is_audited(client, platform, login):
    ent = login("ent_yiwu")
    ticket = request_upload(client, ent)
    up = ticket["upload"]
    assert up["state"] == "REQUESTED"
    assert ticket["post"]["fields"]["key"].startswith("uploads/enterprise_sheet/e-91330782677204726D/")
    post_file(ticket, "统一社会信用代码,企业名称\n91330782677204726D,义乌市示范建设有限公司\n".encode("gb18030"))
    p = poller(None, platform)
    assert drain(p) >= 1
    got = body(client.http.get(f"/uploads/{up['upload_id']}", headers=ent))
    assert got["state"] == "RECEIVED"
    assert got["size"] > 0

    trail = body(client.http.get(f"/audit/targets/upload/{up['upload_id']}", headers=login("county_yiwu")))
    assert [e["action"] for e in trail["items"]] == ["UPLOAD_REQUESTED", "UPLOAD_RECEIVED"]
    first, second = trail["items"]
    assert first["actor_username"] == "ent_yiwu" and first["actor_org"] == "91330782677204726D"
    assert second["actor_role"] == "system" and second["prev_hash"] == first["hash"]
    assert first["at"].endswith("+08:00") and first["at_utc"].endswith("+00:00")
    report = body(client.http.get(f"/audit/targets/upload/{up['upload_id']}/verify", headers=login("province")))
    assert report["intact"] is True and report["entries"] == 2


def test_duplicate_delivery_has_one_effect(client, platform, login):
    ent = login("ent_yiwu")
    ticket = request_upload(client, ent)
    post_file(ticket, b"a,b\n1,2\n")
    sqs = platform["session"].client("sqs")
    url = platform["queues"][UPLOAD_EVENTS_QUEUE]["url"]
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
    msgs = [m for m in msgs if "Records" in m["Body"]]  # moto also queues an s3:TestEvent at set-up
    assert len(msgs) == 1
    # The same notification delivered three times (SQS is at-least-once).
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=msgs[0]["Body"])
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"], VisibilityTimeout=0)
    p = poller(None, platform)
    drain(p)
    assert p.stats.succeeded >= 3 and p.stats.failed == 0
    upload_id = ticket["upload"]["upload_id"]
    trail = body(client.http.get(f"/audit/targets/upload/{upload_id}", headers=login("province")))
    assert [e["action"] for e in trail["items"]] == ["UPLOAD_REQUESTED", "UPLOAD_RECEIVED"]


def test_a_message_that_always_fails_lands_in_the_dlq(platform):
    sqs = platform["session"].client("sqs")
    info = platform["queues"][UPLOAD_EVENTS_QUEUE]
    sqs.send_message(QueueUrl=info["url"], MessageBody="this is not an S3 notification")
    good = json.dumps({"Event": "s3:TestEvent"})
    sqs.send_message(QueueUrl=info["url"], MessageBody=good)
    p = poller(None, platform)
    drain(p, rounds=8)
    dead = sqs.receive_message(QueueUrl=info["dlq_url"], MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ["this is not an S3 notification"]
    assert p.stats.failed == 5  # delivered maxReceiveCount (infra/declarations.py) times, then moved
    left = sqs.receive_message(QueueUrl=info["url"], MaxNumberOfMessages=10)
    assert "Messages" not in left  # the good message was deleted despite sharing a batch with the poison


def test_object_that_breaks_the_policy_is_rejected(client, platform, login):
    """moto does not enforce presigned-POST conditions; the intake handler re-checks them."""
    ent = login("ent_yiwu")
    ticket = request_upload(client, ent, kind="attachment", filename="营业执照.pdf", content_type="application/pdf")
    # A client that ignores the policy and declares another type (S3 on AWS would refuse; moto stores it).
    post_file(ticket, b"\x89PNG not a pdf", content_type="image/png", **{"Content-Type": "image/png"})
    drain(poller(None, platform))
    got = body(client.http.get(f"/uploads/{ticket['upload']['upload_id']}", headers=ent))
    assert got["state"] == "REJECTED"
    assert "文件类型" in got["reject_reason"]


def test_upload_visibility_follows_ownership_and_region(client, login):
    ticket = request_upload(client, login("ent_yiwu"))
    path = f"/uploads/{ticket['upload']['upload_id']}"
    assert client.http.get(path, headers=login("ent_hangzhou")).status_code == 404
    assert client.http.get(path, headers=login("county_xihu")).status_code == 404
    assert client.http.get(path, headers=login("city_hangzhou")).status_code == 404
    assert client.http.get(path, headers=login("county_yiwu")).status_code == 200
    assert client.http.get(path, headers=login("city_jinhua")).status_code == 200
    assert client.http.get(path, headers=login("province")).status_code == 200
    assert client.http.get(path).status_code == 401
    # and the audit trail follows the same region rule
    trail = f"/audit/targets/upload/{ticket['upload']['upload_id']}"
    assert client.http.get(trail, headers=login("county_xihu")).status_code == 404
    assert client.http.get(trail, headers=login("ent_yiwu")).status_code == 403


@pytest.mark.parametrize(
    ("user", "payload", "status", "code"),
    [
        (
            "ministry_sync",
            {"kind": "attachment", "filename": "a.pdf", "content_type": "application/pdf", "size": 1},
            403,
            "FORBIDDEN",
        ),
        (
            "ent_yiwu",
            {"kind": "legacy_export", "filename": "a.csv", "content_type": "text/csv", "size": 1},
            403,
            "FORBIDDEN",
        ),
        (
            "ent_yiwu",
            {"kind": "nope", "filename": "a.csv", "content_type": "text/csv", "size": 1},
            400,
            "INVALID_INPUT",
        ),
        (
            "ent_yiwu",
            {"kind": "attachment", "filename": "a.exe", "content_type": "application/x-msdownload", "size": 1},
            400,
            "INVALID_INPUT",
        ),
        (
            "ent_yiwu",
            {"kind": "attachment", "filename": "a.pdf", "content_type": "application/pdf", "size": 999_999_999},
            400,
            "INVALID_INPUT",
        ),
    ],
)
def test_upload_request_checks(client, login, user, payload, status, code):
    resp = client.http.post("/uploads", headers={**JSON, **login(user)}, body=json.dumps(payload))
    assert resp.status_code == status, resp.body
    assert body(resp)["code"] == code


def test_listing_my_uploads_is_paginated(client, login):
    ent = login("ent_hangzhou")
    ids = [request_upload(client, ent)["upload"]["upload_id"] for _ in range(3)]
    page1 = body(client.http.get("/uploads?limit=2", headers=ent))
    assert len(page1["items"]) == 2 and page1["cursor"]
    page2 = body(client.http.get(f"/uploads?limit=2&cursor={page1['cursor']}", headers=ent))
    seen = [u["upload_id"] for u in page1["items"] + page2["items"]]
    assert sorted(seen) == sorted(ids)
    assert body(client.http.get("/uploads", headers=login("ent_yiwu")))["items"] == []
    assert client.http.get("/uploads?cursor=%%%", headers=ent).status_code == 400


def test_schedule_expires_abandoned_uploads(client, platform, login, monkeypatch):
    from chalicelib import wiring

    monkeypatch.setenv("UPLOAD_URL_TTL_SECONDS", "0")
    monkeypatch.setenv("UPLOAD_GRACE_SECONDS", "0")
    wiring.reset()
    ent = login("ent_yiwu")
    abandoned = request_upload(client, ent)["upload"]["upload_id"]
    arrived = request_upload(client, ent)
    post_file(arrived, b"x,y\n")  # its notification is still queued: the sweeper must leave it to intake
    result = client.lambda_.invoke(
        "expire_abandoned_uploads",
        client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]),
    )
    assert result.payload == {"expired": 1}
    assert body(client.http.get(f"/uploads/{abandoned}", headers=ent))["state"] == "EXPIRED"
    assert body(client.http.get(f"/uploads/{arrived['upload']['upload_id']}", headers=ent))["state"] == "REQUESTED"
    trail = body(client.http.get(f"/audit/targets/upload/{abandoned}", headers=login("province")))
    assert [e["action"] for e in trail["items"]] == ["UPLOAD_REQUESTED", "UPLOAD_EXPIRED"]
    assert trail["items"][1]["actor_subject"] == "system:upload-expiry"


def test_reusing_the_post_policy_after_acceptance_does_not_change_the_accepted_version(client, platform, login):
    ent = login("ent_yiwu")
    ticket = request_upload(client, ent)
    post_file(ticket, b"first,version\n")
    drain(poller(None, platform))
    accepted = body(client.http.get(f"/uploads/{ticket['upload']['upload_id']}", headers=ent))
    post_file(ticket, b"second,version,longer\n")
    drain(poller(None, platform))
    after = body(client.http.get(f"/uploads/{ticket['upload']['upload_id']}", headers=ent))
    assert after["state"] == "RECEIVED" and after["size"] == accepted["size"] == len(b"first,version\n")
    trail = body(client.http.get(f"/audit/targets/upload/{ticket['upload']['upload_id']}", headers=login("province")))
    assert len(trail["items"]) == 2


def test_an_attachment_must_really_be_a_pdf_or_image(client, platform, login):
    ent = login("ent_yiwu")
    ticket = request_upload(
        client, ent, kind="attachment", filename="营业执照.pdf", content_type="application/pdf", size=200
    )
    post_file(ticket, b"MZ\x90\x00" + b"\x00" * 100, content_type="application/pdf")  # a renamed .exe
    drain(poller(None, platform))
    got = body(client.http.get(f"/uploads/{ticket['upload']['upload_id']}", headers=ent))
    assert got["state"] == "REJECTED" and "可执行程序" in got["reject_reason"]
    ok = request_upload(client, ent, kind="attachment", filename="扫描件.png", content_type="image/png", size=100)
    post_file(ok, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
    drain(poller(None, platform))
    assert body(client.http.get(f"/uploads/{ok['upload']['upload_id']}", headers=ent))["state"] == "RECEIVED"
    # Preview: a short-lived inline link for the uploader and the county; another county and a refused file get none.
    link = body(client.http.get(f"/uploads/{ok['upload']['upload_id']}/download", headers=ent))
    assert link["filename"] == "扫描件.png" and "inline" in requests.utils.unquote(link["url"])
    county = body(client.http.get(f"/uploads/{ok['upload']['upload_id']}/download", headers=login("county_yiwu")))
    assert county["content_type"] == "image/png"
    assert (
        client.http.get(f"/uploads/{ok['upload']['upload_id']}/download", headers=login("county_xihu")).status_code
        == 404
    )
    refused = client.http.get(f"/uploads/{ticket['upload']['upload_id']}/download", headers=ent)
    assert refused.status_code == 409
