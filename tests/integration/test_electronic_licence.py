"""电子证照 on in-process moto: the printed permit is sealed by its issuing authority (a key from Secrets Manager, a
test CA on the local stage); public verification of the file says genuine with the licence's status; one changed
byte, a copy sealed with another key and a seal moved from another permit's file are all detected; after an
extension the first version answers that it was superseded (the status of every state: tests/unit/test_elicence.py)."""

from __future__ import annotations

import base64
import json
import re

import requests

from tests.integration.test_permits import body, issue_one, permits, post  # noqa: F401 - the permits fixture

JSON = {"Content-Type": "application/json"}


def verify(client, pdf: bytes) -> dict:
    r = client.http.post(
        "/public/licences/verify", headers=JSON, body=json.dumps({"pdf_base64": base64.b64encode(pdf).decode()})
    )
    assert r.status_code == 200, r.body
    return body(r)


def printed(client, login, app_id, copy="正本") -> tuple[bytes, dict]:
    link = body(client.http.get(f"/permit-applications/{app_id}/certificate?copy={copy}", headers=login("ent_yiwu")))
    return requests.get(link["url"], timeout=10).content, link


def _contents(pdf: bytes) -> re.Match:
    """The signature value in the file: /Contents <hex> of the signature dictionary."""
    return list(re.finditer(rb"/Contents\s*<([0-9a-fA-F]+)>", pdf))[-1]


def test_a_sealed_licence_verifies_and_every_forgery_is_detected(client, platform, login, permits):  # noqa: F811
    from chalicelib.adapters.licence_seal import new_authority_key, new_ca, seal_pdf
    from chalicelib.domain.certificate import render_seal_png

    app_id, v = issue_one(client, login, permits)
    pdf, link = printed(client, login, app_id)
    good = verify(client, pdf)
    assert good["genuine"] is True and good["status_label"] == "有效" and good["version"] == 1
    assert good["seal"]["signer"] == "义乌市住房和城乡建设局" and good["permit_no"] == v["application"]["permit_no"]
    assert good["licence_id"] == link["licence_id"] and good["verdict"] == "电子印章有效，证照状态：有效"

    # one changed byte in the signed content
    i = pdf.index(b"/Subject")
    tampered = pdf[:i] + pdf[i : i + 40].replace(b"1", b"2", 1) + pdf[i + 40 :]
    assert tampered != pdf and len(tampered) == len(pdf)
    bad = verify(client, tampered)
    assert bad["genuine"] is False and bad["seal"]["intact"] is False
    assert "改动" in bad["verdict"]

    # the same certificate sealed by a key the platform does not trust (a self-made CA)
    ca_key, ca_cert = new_ca("伪造的根证书")
    other = new_authority_key("义乌市住房和城乡建设局", ca_key, ca_cert)
    from chalicelib.domain.certificate import render_permit

    unsigned, box = render_permit(
        {
            "permit_no": v["application"]["permit_no"],
            "licence_id": link["licence_id"],
            "edition": 1,
            "issuer": "义乌市住房和城乡建设局",
        },
        copy="正本",
        verify_url="http://example.invalid",
        reprint=0,
    )
    forged = seal_pdf(
        unsigned, other, box=box, seal_png=render_seal_png("义乌市住房和城乡建设局"), reason="伪造", location="—"
    )
    fake = verify(client, forged)
    assert fake["genuine"] is False and fake["seal"]["intact"] is True and fake["seal"]["trusted"] is False
    assert "不是由平台认可的发证机关签发" in fake["verdict"]

    # a genuine seal taken from this permit's file and put into another permit's file (the first project completed:
    # its manager is free for the second)
    current = body(client.http.get(f"/permit-applications/{app_id}", headers=login("ent_yiwu")))["application"]
    done = post(
        client,
        login("ent_yiwu"),
        f"/permit-applications/{app_id}/completion",
        {"version": current["version"], "completion_no": "义竣备2016-0002", "completed_on": "2016-06-30"},
    )
    assert done.status_code == 200, done.body
    assert verify(client, pdf)["status_label"] == "有效"  # a completed project's licence stays valid
    second_id, _ = issue_one(client, login, permits, prj_index=1)
    other_pdf, _ = printed(client, login, second_id)
    a, b = _contents(pdf), _contents(other_pdf)
    seal = a.group(1).rstrip(b"0")  # the DER value; the slot is padded with zeros to its reserved size
    seal += b"0" * (len(seal) % 2)
    assert len(seal) <= len(b.group(1))
    moved = other_pdf[: b.start(1)] + seal.ljust(len(b.group(1)), b"0") + other_pdf[b.end(1) :]
    swap = verify(client, moved)
    assert swap["genuine"] is False and swap["seal"]["intact"] is False

    # not a PDF at all, and a PDF without a seal
    assert verify(client, b"hello")["seal"]["signed"] is False
    assert "没有电子印章" in verify(client, unsigned)["verdict"]


def test_an_extension_supersedes_the_first_version(
    client,
    platform,
    login,
    permits,  # noqa: F811
):
    app_id, _ = issue_one(client, login, permits)
    first, _ = printed(client, login, app_id)
    ent, county = login("ent_yiwu"), login("county_yiwu")
    base = f"/permit-applications/{app_id}"
    a = body(client.http.get(base, headers=ent))["application"]  # printing moved its version
    a = body(post(client, ent, f"{base}/extensions", {"version": a["version"], "months": 3, "reason": "拆迁未完成"}))[
        "application"
    ]
    r = post(
        client, county, f"{base}/extensions/decision", {"version": a["version"], "approved": True, "reason": "理由成立"}
    )
    assert r.status_code == 200, r.body
    second, link = printed(client, login, app_id)
    old = verify(client, first)
    assert (
        old["genuine"] is True and old["status"] == "SUPERSEDED" and (old["version"], old["current_version"]) == (1, 2)
    )
    assert "已被第2版取代" in old["verdict"]
    new = verify(client, second)
    assert new["status_label"] == "有效" and new["version"] == 2 and link["licence_id"].split(".")[-2] == "02"


def test_a_manager_locked_in_another_province_blocks_the_permit(client, platform, login, permits, monkeypatch):  # noqa: F811
    """Before issuing, the project manager is checked against the national platform's in-progress projects (the
    simulator answers "locked in 江苏"); a query without an answer blocks too, with its own reason."""
    from chalicelib import wiring
    from infra.local.national_sim import NationalSimulator
    from tests.integration.test_imports import id_card
    from tests.integration.test_permits import apply, pump_until

    with NationalSimulator(seed=3) as sim:
        monkeypatch.setenv("NATIONAL_API_URL", sim.url)
        monkeypatch.setenv("NATIONAL_API_KEY", sim.api_key)
        monkeypatch.setenv("NATIONAL_TIMEOUT_SECONDS", "0.5")
        wiring.reset()
        sim.lock_person(
            id_card("33078219750312001"), "3201062501150003", "南京市江北新区综合体工程", "320000", "江苏省"
        )
        app_id = apply(client, login, permits["projects"][0], permits["people"]["李建华"])
        v = pump_until(client, login, permits, app_id, lambda v: v["application"]["task_step"] == "await_completion")
        assert (
            "项目经理李建华已被江苏省在建项目3201062501150003（南京市江北新区综合体工程）锁定，"
            "该项目竣工验收前不能在本项目担任项目经理"
        ) in v["application"]["missing"]
        assert v["application"]["state"] == "INCOMPLETE"
    # the simulator is gone: the resubmitted application is not issued on an unchecked manager
    ent = login("ent_yiwu")
    r = client.http.post(
        f"/permit-applications/{app_id}/resubmit",
        headers={**JSON, **ent},
        body=json.dumps({"version": v["application"]["version"], "changes": {}}),
    )
    assert r.status_code == 200, r.body
    v = pump_until(
        client,
        login,
        permits,
        app_id,
        lambda x: (
            x["application"]["version"] > v["application"]["version"] + 1
            and x["application"]["task_step"] == "await_completion"
        ),
    )
    assert "全国平台暂时无法查询，未能核查项目经理在外省的在建项目锁定，请稍后重新提交" in v["application"]["missing"]
