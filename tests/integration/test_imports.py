"""Sheet uploads -> S3 -> SQS -> intake -> import job -> registry records, on in-process moto.

Every case of the issue's "bad input it must survive" list has a test here: each gets a clear error, nothing valid
is lost and nothing invalid is written.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile

import pytest

from chalicelib.names import IMPORT_JOBS_QUEUE, UPLOAD_EVENTS_QUEUE
from infra.local.pumps import SqsPoller

JSON = {"Content-Type": "application/json"}
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
USCC_YIWU = "91330782677204726D"
USCC_HZ = "91330106MA2CFE0Q4W"
ENT_HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "工商注册号",
    "注册所在地区划代码",
    "经营地址",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "法定代表人职务",
    "企业登记注册类型",
    "注册资本（万元）",
    "成立日期",
    "联系人",
    "联系电话",
    "电子邮箱",
    "安全生产许可证编号",
    "安全生产许可证发证机关",
    "安全生产许可证发证日期",
    "安全生产许可证有效期至",
    "许可范围",
]
PERSON_HEADERS = [
    "证件类型",
    "证件号码",
    "姓名",
    "性别",
    "出生日期",
    "学历",
    "手机号码",
    "注册单位统一社会信用代码",
    "注册单位名称",
    "注册单位所在地区划代码",
    "注册类别",
    "注册专业",
    "资格证书号",
    "注册证书编号",
    "执业印章号",
    "注册发证日期",
    "注册发证机关",
    "注册有效期至",
    "执业状态",
]


def body(resp):
    return json.loads(resp.body)


def uscc(prefix8: str, org8: str) -> str:
    from chalicelib.domain.identifiers import org_code_check_char, uscc_check_char

    s17 = prefix8 + org8 + org_code_check_char(org8)
    return s17 + uscc_check_char(s17)


def id_card(first17: str) -> str:
    from chalicelib.domain.identifiers import id_card_check_char

    return first17 + id_card_check_char(first17)


def ent_row(code: str, name: str, region: str = "330782", **over) -> list[str]:
    row = dict.fromkeys(ENT_HEADERS, "")
    row.update(
        {
            "统一社会信用代码": code,
            "企业名称": name,
            "注册所在地区划代码": region,
            "经营地址": "浙江省义乌市稠城街道1号",
            "法定代表人": "张三",
            "注册资本（万元）": "5000",
            "成立日期": "2003-05-01",
        }
    )
    row.update(over)
    return [row[h] for h in ENT_HEADERS]


def person_row(idno: str, name: str, employer: str = USCC_YIWU, **over) -> list[str]:
    row = dict.fromkeys(PERSON_HEADERS, "")
    row.update(
        {
            "证件号码": idno,
            "姓名": name,
            "注册单位统一社会信用代码": employer,
            "注册单位名称": "义乌市示范建设有限公司",
            "注册类别": "一级注册建造师",
            "注册证书编号": "浙133000800001",
            "注册有效期至": "2017-12-31",
        }
    )
    row.update(over)
    return [row[h] for h in PERSON_HEADERS]


def csv_bytes(headers: list[str], rows: list[list[str]], encoding: str = "gb18030") -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list[str]]]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                ws.write_string(r, c, v)
    wb.close()
    return out.getvalue()


class Pipeline:
    def __init__(self, client, platform, login):
        from app import app

        self.client, self.platform, self.login = client, platform, login
        sqs = platform["session"].client("sqs")
        self.pollers = []
        for name, fn in ((UPLOAD_EVENTS_QUEUE, "on_upload_object_created"), (IMPORT_JOBS_QUEUE, "on_import_job")):
            info = platform["queues"][name]
            self.pollers.append(
                SqsPoller(
                    name=fn,
                    handler=app.handler_map[fn],
                    sqs=sqs,
                    queue_url=info["url"],
                    queue_arn=info["arn"],
                    batch_size=10,
                    region="us-east-1",
                    stop=threading.Event(),
                    retry_backoff_seconds=0,
                    wait_seconds=0,
                )
            )

    def pump(self, rounds: int = 6) -> None:
        for _ in range(rounds):
            moved = sum(p.poll_once() for p in self.pollers)
            if not moved:
                break

    def upload(
        self,
        user: str,
        data: bytes,
        *,
        kind="enterprise_sheet",
        filename="企业信息表.csv",
        content_type=CSV,
        record_type=None,
        fields_override=None,
        declared_size=None,
    ) -> dict:
        headers = self.login(user)
        payload = {
            "kind": kind,
            "filename": filename,
            "content_type": content_type,
            "size": declared_size or max(len(data), 1),
        }
        if record_type:
            payload["record_type"] = record_type
        resp = self.client.http.post("/uploads", headers={**JSON, **headers}, body=json.dumps(payload))
        assert resp.status_code == 201, resp.body
        ticket = body(resp)
        import requests

        fields = {**ticket["post"]["fields"], **(fields_override or {})}
        r = requests.post(
            ticket["post"]["url"], data=fields, files={"file": (filename, data, content_type)}, timeout=10
        )
        assert r.status_code in (200, 204), r.text
        self.pump()
        return ticket["upload"]

    def job(self, user: str, upload_id: str) -> dict:
        resp = self.client.http.get(f"/imports/{upload_id}", headers=self.login(user))
        assert resp.status_code == 200, resp.body
        return body(resp)

    def run(self, user: str, data: bytes, **kw) -> dict:
        upload = self.upload(user, data, **kw)
        return self.job(user, upload["upload_id"])


@pytest.fixture
def pipe(client, platform, login):
    return Pipeline(client, platform, login)


def issues(job: dict, severity: str = "error") -> list[tuple[int, str, str]]:
    return [(i["row"], i["column"], i["reason"]) for i in job["issues_preview"] if i["severity"] == severity]


# ---- the happy paths --------------------------------------------------------------------------------------------


def test_official_imports_enterprises_from_a_gbk_csv(pipe, client, login):
    a = uscc("91330782", "MA2A0001")
    b = uscc("91330782", "MA2A0002")
    job = pipe.run(
        "county_yiwu", csv_bytes(ENT_HEADERS, [ent_row(a, "义乌甲建设有限公司"), ent_row(b, "义乌乙建设有限公司")])
    )
    assert job["state"] == "COMPLETED", job
    assert job["counts"]["rows"] == 2 and job["counts"]["created"] == 2
    rec = body(client.http.get(f"/registry/enterprises/{a}", headers=login("county_yiwu")))
    assert rec["record"]["name"] == "义乌甲建设有限公司"
    assert rec["record"]["state"] == "IMPORTED"
    assert rec["record"]["provenance"]["source"] == "OFFICIAL_UPLOAD"
    assert rec["record"]["provenance"]["source_job"] == job["job_id"]
    assert rec["completeness"]["complete"] is False and rec["completeness"]["missing"]
    listing = body(client.http.get("/registry/enterprises?limit=10", headers=login("county_yiwu")))
    assert {r["record_id"] for r in listing["items"]} >= {a, b}
    assert client.http.get(f"/registry/enterprises/{a}", headers=login("county_xihu")).status_code == 404


def test_enterprise_xlsx_with_qualifications_sheet(pipe, client, login):
    qual_headers = [
        "统一社会信用代码",
        "资质证书编号",
        "资质类型",
        "发证机关",
        "发证日期",
        "有效期至",
        "资质标准版本",
        "资质代码",
        "是否主项",
        "批准文号",
        "批准日期",
        "取得方式",
        "资质状态",
    ]
    data = xlsx_bytes(
        {
            "企业基本信息": [ENT_HEADERS, ent_row(USCC_YIWU, "义乌市示范建设有限公司")],
            "资质证书": [
                qual_headers,
                [
                    USCC_YIWU,
                    "D233001234",
                    "3",
                    "浙江省住房和城乡建设厅",
                    "2015-01-20",
                    "2020-01-19",
                    "2014",
                    "D101A",
                    "是",
                    "",
                    "",
                    "",
                    "",
                ],
                [
                    USCC_YIWU,
                    "D233001234",
                    "3",
                    "浙江省住房和城乡建设厅",
                    "2015-01-20",
                    "2020-01-19",
                    "2014",
                    "D110B",
                    "否",
                    "",
                    "",
                    "",
                    "",
                ],
            ],
        }
    )
    job = pipe.run("ent_yiwu", data, filename="企业信息表.xlsx", content_type=XLSX)
    assert job["state"] == "COMPLETED", job
    me = body(client.http.get("/me/enterprise", headers=login("ent_yiwu")))
    quals = me["record"]["qualifications"]
    assert [q["cert_no"] for q in quals] == ["D233001234"]
    assert [i["code"] for i in quals[0]["items"]] == ["D101A", "D110B"]
    assert me["record"]["state"] == "SUPPLEMENTED"  # entered by the enterprise itself


def test_personnel_rows_group_into_persons_and_15_digit_ids_are_converted(pipe, client, login):
    old15 = "330782750101001"  # legacy 15-digit number, converted to 18 digits
    idn = id_card("33078219800101001")
    rows = [
        person_row(idn, "李四", 注册类别="一级注册建造师", 注册专业="建筑工程、市政公用工程"),
        person_row(idn, "李四", 注册类别="注册监理工程师", 注册专业="房屋建筑工程", 注册证书编号="33001234"),
        person_row(old15, "王五"),
    ]
    job = pipe.run("ent_yiwu", csv_bytes(PERSON_HEADERS, rows), kind="personnel_sheet", filename="人员.csv")
    assert job["state"] == "COMPLETED", job
    assert job["counts"]["records"] == 2 and job["counts"]["created"] == 2
    warnings = [i for i in job["issues_preview"] if i["severity"] == "warning"]
    assert any("15位" in w["reason"] for w in warnings)
    people = body(client.http.get("/me/personnel", headers=login("ent_yiwu")))["items"]
    by_name = {p["record"]["name"]: p["record"] for p in people}
    assert len(by_name["李四"]["registrations"]) == 2
    assert by_name["王五"]["id_no"] == "33078219750101001" + by_name["王五"]["id_no"][-1]
    assert by_name["王五"]["birth_date"] == "1975-01-01"
    # the ID number never appears in keys
    assert all(idn not in p["record_id"] for p in people)


# ---- bad input it must survive ------------------------------------------------------------------------------------


def test_header_mismatch_rejects_the_file(pipe):
    hdrs = [h for h in ENT_HEADERS if h != "企业名称"] + ["备注"]
    job = pipe.run("county_yiwu", csv_bytes(hdrs, [["x"] * len(hdrs)]))
    assert job["state"] == "REJECTED"
    assert "企业名称" in job["file_error"] and "备注" in job["file_error"]
    assert job["counts"]["created"] == 0


def test_wrong_encoding_and_mojibake_are_rejected_clearly(pipe):
    utf16 = "\ufeff".encode("utf-16-le") + ",".join(ENT_HEADERS).encode("utf-16-le")
    job = pipe.run("county_yiwu", utf16)
    assert job["state"] == "REJECTED" and job["file_error"]
    mojibake = ",".join(ENT_HEADERS).encode("utf-8").decode("gb18030", errors="replace").encode("utf-8")
    job = pipe.run("county_yiwu", mojibake + b"\r\n")
    assert job["state"] == "REJECTED" and "表头" in job["file_error"]


def test_utf8_with_bom_is_accepted(pipe):
    job = pipe.run("county_yiwu", csv_bytes(ENT_HEADERS, [ent_row(uscc("91330782", "MA2A0003"), "甲")], "utf-8-sig"))
    assert job["state"] == "COMPLETED", job


def test_empty_file_and_header_only_file(pipe):
    job = pipe.run("county_yiwu", csv_bytes(ENT_HEADERS, []))
    assert job["state"] == "REJECTED" and "没有数据行" in job["file_error"]


def test_row_errors_name_row_column_value_and_reason_and_valid_rows_still_import(pipe, client, login):
    good = uscc("91330782", "MA2A0004")
    rows = [
        ent_row(good, "有效企业"),
        ent_row("91330782677204726E", "校验码错误企业"),  # wrong check character
        ent_row(uscc("91330782", "MA2A0005"), "日期错误企业", 成立日期="2015-02-30"),
        ent_row(
            uscc("91330782", "MA2A0006"),
            "",
        ),  # required name missing
        ent_row(good, "重复的企业"),  # duplicate within the file
        ent_row(uscc("91330782", "MA2A0007"), '=HYPERLINK("http://evil","点我")'),
    ]
    job = pipe.run("county_yiwu", csv_bytes(ENT_HEADERS, rows))
    assert job["state"] == "COMPLETED_WITH_ERRORS"
    errs = issues(job)
    assert (3, "统一社会信用代码") in [(r, c) for r, c, _ in errs]
    assert any(r == 3 and "校验码" in why for r, _, why in errs)
    assert any(r == 4 and c == "成立日期" and "有效日期" in why for r, c, why in errs)
    assert any(r == 5 and c == "企业名称" and "必填" in why for r, c, why in errs)
    assert any(r == 6 and "重复" in why for r, _, why in errs)
    assert job["counts"]["created"] == 2  # the good one and the formula-looking name (stored as text)
    assert client.http.get(f"/registry/enterprises/{good}", headers=login("county_yiwu")).status_code == 200
    assert client.http.get("/registry/enterprises/91330782677204726E", headers=login("province")).status_code == 404
    # the downloadable report: CSV with the formula cell defused, XLSX too
    import requests

    report = requests.get(job["report"]["csv"], timeout=10).content.decode("utf-8-sig")
    assert "行号" in report.splitlines()[0] and "校验码" in report
    xlsx = requests.get(job["report"]["xlsx"], timeout=10).content
    assert zipfile.ZipFile(io.BytesIO(xlsx)).testzip() is None


def test_duplicates_against_the_registry_are_refused(pipe):
    code = uscc("91330782", "MA2A0008")
    first = pipe.run("county_yiwu", csv_bytes(ENT_HEADERS, [ent_row(code, "第一次")]))
    assert first["state"] == "COMPLETED"
    second = pipe.run("county_yiwu", csv_bytes(ENT_HEADERS, [ent_row(code, "第二次")]))
    assert second["state"] == "COMPLETED_WITH_ERRORS"
    assert any("已存在" in why for _, _, why in issues(second))
    assert second["counts"]["created"] == 0


def test_a_retired_region_code_maps_to_its_successor_with_a_warning(pipe, client, login, platform):
    """A 拱墅区 official imports a row still carrying 下城区 (330103, merged into 拱墅区 on 2021-04-09): the record
    is accepted, registered under 330105 and held by the 拱墅区 officials; the report says why."""
    from infra.local.demo import DemoAccount, create_user

    create_user(DemoAccount("county_gongshu", "county_official", "拱墅区建设局", "330105"))
    code = uscc("91330103", "MA2A0009")  # registered in 下城区 (330103)
    job = pipe.run("county_gongshu", csv_bytes(ENT_HEADERS, [ent_row(code, "下城区老企业", region="330103")]))
    assert job["state"] == "COMPLETED" and job["counts"]["created"] == 1, job
    warnings = [why for _, _, why in issues(job, severity="warning")]
    assert any("330103（下城区）已于2021-04-08撤销，按现行区划改为330105（拱墅区）" in w for w in warnings), warnings
    rec = body(client.http.get(f"/registry/enterprises/{code}", headers=login("county_gongshu")))
    assert rec["record"]["registered_region"] == "330105" and rec["record"]["region_code"] == "330105"
    # the 上城区/西湖区 officials do not hold it; the city does
    assert client.http.get(f"/registry/enterprises/{code}", headers=login("county_xihu")).status_code == 404
    assert client.http.get(f"/registry/enterprises/{code}", headers=login("city_hangzhou")).status_code == 200


def test_out_of_region_rows_are_refused_for_a_county_official(pipe):
    job = pipe.run(
        "county_yiwu", csv_bytes(ENT_HEADERS, [ent_row(uscc("91330106", "MA2A0010"), "西湖企业", region="330106")])
    )
    assert job["state"] == "COMPLETED_WITH_ERRORS"
    assert any("管辖范围" in why for _, _, why in issues(job))


def test_enterprise_can_only_import_itself(pipe):
    job = pipe.run("ent_yiwu", csv_bytes(ENT_HEADERS, [ent_row(USCC_HZ, "别人的企业", region="330106")]))
    assert job["state"] == "COMPLETED_WITH_ERRORS"
    assert any("本企业" in why for _, _, why in issues(job))


def test_renamed_exe_and_xlsm_and_zip_bomb_are_rejected(pipe):
    exe = b"MZ\x90\x00" + b"\x00" * 200
    job = pipe.run("county_yiwu", exe, filename="企业信息表.csv")
    assert job["state"] == "REJECTED" and "可执行" in job["file_error"]

    xlsm = io.BytesIO()
    base = xlsx_bytes({"企业基本信息": [ENT_HEADERS]})
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(xlsm, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 64)
    job = pipe.run("county_yiwu", xlsm.getvalue(), filename="企业信息表.xlsx", content_type=XLSX)
    assert job["state"] == "REJECTED" and "宏" in job["file_error"]

    bomb = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        with dst.open("xl/media/bomb.bin", "w") as f:
            chunk = b"\x00" * (1 << 20)
            for _ in range(300):
                f.write(chunk)
    job = pipe.run("county_yiwu", bomb.getvalue(), filename="企业信息表.xlsx", content_type=XLSX)
    assert job["state"] == "REJECTED" and "压缩炸弹" in job["file_error"]


def test_file_over_the_size_limit_is_rejected_at_arrival(pipe, client, login):
    """The policy's content-length-range is enforced by S3 on AWS, not by moto: intake checks again."""
    too_big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)
    upload = pipe.upload(
        "county_yiwu",
        too_big,
        kind="attachment",
        filename="扫描件.pdf",
        content_type="application/pdf",
        declared_size=1000,
    )
    got = body(client.http.get(f"/uploads/{upload['upload_id']}", headers=login("county_yiwu")))
    assert got["state"] == "REJECTED" and "超过上限" in got["reject_reason"]


def test_upload_under_another_enterprises_prefix_is_ignored(pipe, client, login):
    resp = client.http.post(
        "/uploads",
        headers={**JSON, **login("ent_yiwu")},
        body=json.dumps({"kind": "enterprise_sheet", "filename": "a.csv", "content_type": CSV, "size": 10}),
    )
    ticket = body(resp)
    import requests

    fields = dict(ticket["post"]["fields"])
    # The same upload id, but under the other enterprise's prefix (S3 would refuse: the policy pins the key).
    fields["key"] = f"uploads/enterprise_sheet/e-{USCC_HZ}/{ticket['upload']['upload_id']}/a.csv"
    data = csv_bytes(ENT_HEADERS, [ent_row(USCC_HZ, "冒名企业", region="330106")])
    requests.post(ticket["post"]["url"], data=fields, files={"file": ("a.csv", data, CSV)}, timeout=10)
    pipe.pump()
    mine = body(client.http.get(f"/uploads/{ticket['upload']['upload_id']}", headers=login("ent_yiwu")))
    assert mine["state"] == "REQUESTED"  # untouched: the object is not where the request allowed
    assert body(client.http.get("/imports", headers=login("ent_yiwu")))["items"] == []
    assert client.http.get(f"/registry/enterprises/{USCC_HZ}", headers=login("province")).status_code == 404


def test_event_for_a_deleted_object_gives_a_clear_state(pipe, client, platform, login):
    resp = client.http.post(
        "/uploads",
        headers={**JSON, **login("county_yiwu")},
        body=json.dumps({"kind": "enterprise_sheet", "filename": "a.csv", "content_type": CSV, "size": 10}),
    )
    ticket = body(resp)
    import requests

    requests.post(
        ticket["post"]["url"], data=ticket["post"]["fields"], files={"file": ("a.csv", b"x", CSV)}, timeout=10
    )
    s3 = platform["session"].client("s3")
    s3.delete_object(Bucket=platform["env"]["UPLOAD_BUCKET"], Key=ticket["post"]["fields"]["key"])
    pipe.pump()
    got = body(client.http.get(f"/uploads/{ticket['upload']['upload_id']}", headers=login("county_yiwu")))
    assert got["state"] == "REJECTED" and "删除" in got["reject_reason"]


def test_same_event_three_times_makes_one_job(pipe, client, platform, login):
    sqs = platform["session"].client("sqs")
    url = platform["queues"][UPLOAD_EVENTS_QUEUE]["url"]
    resp = client.http.post(
        "/uploads",
        headers={**JSON, **login("county_yiwu")},
        body=json.dumps({"kind": "enterprise_sheet", "filename": "a.csv", "content_type": CSV, "size": 10}),
    )
    ticket = body(resp)
    import requests

    data = csv_bytes(ENT_HEADERS, [ent_row(uscc("91330782", "MA2A0011"), "三次事件企业")])
    requests.post(
        ticket["post"]["url"], data=ticket["post"]["fields"], files={"file": ("a.csv", data, CSV)}, timeout=10
    )
    msgs = [m for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"] if "Records" in m["Body"]]
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=msgs[0]["Body"])
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"], VisibilityTimeout=0)
    pipe.pump()
    jobs = body(client.http.get("/imports", headers=login("county_yiwu")))["items"]
    assert [j["job_id"] for j in jobs] == [ticket["upload"]["upload_id"]]
    assert jobs[0]["counts"]["created"] == 1
    trail = body(client.http.get(f"/audit/targets/import_job/{jobs[0]['job_id']}", headers=login("province")))
    assert [e["action"] for e in trail["items"]] == ["IMPORT_JOB_CREATED", "IMPORT_JOB_STARTED", "IMPORT_JOB_FINISHED"]


def test_a_job_that_crashes_half_way_and_is_retried_writes_no_duplicates(pipe, client, platform, login, monkeypatch):
    from chalicelib import wiring

    rows = [ent_row(uscc("91330782", f"MA2B{i:04d}"), f"企业{i}") for i in range(60)]
    svc = wiring.get_import_service()
    real = svc.registry.insert_batch
    calls = {"n": 0}

    def crash_after_first(records):
        calls["n"] += 1
        real(records[:30])
        if calls["n"] == 1:
            raise RuntimeError("worker killed half-way")
        real(records)

    monkeypatch.setattr(svc.registry, "insert_batch", crash_after_first)
    upload = pipe.upload("county_yiwu", csv_bytes(ENT_HEADERS, rows))
    pipe.pump()
    job = pipe.job("county_yiwu", upload["upload_id"])
    assert job["state"] == "COMPLETED", job
    assert job["attempts"] == 2 and job["counts"]["created"] == 60
    listing = body(client.http.get("/registry/enterprises?limit=100", headers=login("county_yiwu")))
    names = [r["record"]["name"] for r in listing["items"] if r["record"]["name"].startswith("企业")]
    assert len(names) == len(set(names)) == 60


def test_legacy_export_needs_the_province_admin_and_enters_as_imported(pipe, client, login):
    code = uscc("91330102", "MA2A0012")
    resp = client.http.post(
        "/uploads",
        headers={**JSON, **login("province")},
        body=json.dumps(
            {"kind": "legacy_export", "filename": "a.csv", "content_type": CSV, "size": 10, "record_type": "enterprise"}
        ),
    )
    assert resp.status_code == 403
    job = pipe.run(
        "admin",
        csv_bytes(ENT_HEADERS, [ent_row(code, "历史企业", region="330102")]),
        kind="legacy_export",
        record_type="enterprise",
        filename="2014导出.csv",
    )
    assert job["state"] == "COMPLETED", job
    rec = body(client.http.get(f"/registry/enterprises/{code}", headers=login("province")))
    assert rec["record"]["state"] == "IMPORTED" and rec["record"]["provenance"]["source"] == "LEGACY_IMPORT"


BAD_VALUES = {  # one row, four problems: every path must name the same four fields
    "联系电话": "abc",
    "电子邮箱": "not-an-email",
    "注册资本（万元）": "-5",
    "法定代表人证件号码": "123",
}
BAD_FIELDS = {"contact_phone", "email", "registered_capital", "legal_rep_id_no"}


def test_the_same_row_gets_the_same_verdict_by_sheet_legacy_export_and_patch(pipe, client, login):
    """One rule set across entry paths: the enterprise's own sheet, the province's legacy export (历史数据) and the
    portal's PATCH name the same fields with the same messages, and none of them writes anything."""
    from chalicelib.domain.sheets import ENTERPRISE_BASIC, header_of

    path_of = {header_of(ENTERPRISE_BASIC, c): c.path for c in ENTERPRISE_BASIC.columns}
    rows = [ent_row(USCC_YIWU, "义乌市示范建设有限公司", **BAD_VALUES)]
    seeded = pipe.run("county_yiwu", csv_bytes(ENT_HEADERS, [ent_row(USCC_YIWU, "义乌市示范建设有限公司")]))
    assert seeded["state"] == "COMPLETED", seeded
    before = body(client.http.get(f"/registry/enterprises/{USCC_YIWU}", headers=login("province")))["record"]

    by_sheet = pipe.run("ent_yiwu", csv_bytes(ENT_HEADERS, rows), kind="enterprise_sheet", filename="企业.csv")
    by_legacy = pipe.run(
        "admin", csv_bytes(ENT_HEADERS, rows), kind="legacy_export", record_type="enterprise", filename="2014导出.csv"
    )
    sheet_issues, legacy_issues = issues(by_sheet), issues(by_legacy)
    assert {path_of[c] for _, c, _ in sheet_issues} == BAD_FIELDS, sheet_issues
    assert legacy_issues == sheet_issues

    changes = {path_of[h]: v for h, v in BAD_VALUES.items()}
    r = client.http.patch(
        f"/registry/enterprises/{USCC_YIWU}",
        headers={**JSON, **login("ent_yiwu")},
        body=json.dumps({"version": before["version"], "changes": changes}),
    )
    assert r.status_code == 400
    patch = {d["field"]: d["message"] for d in body(r)["details"]}
    assert set(patch) == BAD_FIELDS
    assert {path_of[c]: reason for _, c, reason in sheet_issues} == patch

    after = body(client.http.get(f"/registry/enterprises/{USCC_YIWU}", headers=login("province")))["record"]
    assert after["version"] == before["version"] and after["contact_phone"] == before["contact_phone"]
