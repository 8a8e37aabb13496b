"""Uploads through presigned POST: the request, the object's arrival, and the checks S3 cannot be trusted with.

moto enforces no presigned-POST policy condition (size, type, key), and a client can always lie about what it
will send, so every condition in the policy is checked again when the object arrives.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

from chalicelib.domain.errors import Forbidden, InvalidInput
from chalicelib.domain.fields import Uscc
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.lifecycle import TransitionTable

_DATA = Path(__file__).resolve().parent.parent / "data"
KEY_PREFIX = "uploads/"


class UploadKindSpec(BaseModel):
    code: str
    label: str
    content_types: list[str]
    max_bytes: int
    roles: list[Role]
    needs_record_type: bool = False


class UploadKindTable(BaseModel):
    version: str
    description: str = ""
    kinds: list[UploadKindSpec]

    def get(self, code: str) -> UploadKindSpec:
        for k in self.kinds:
            if k.code == code:
                return k
        allowed = "、".join(k.code for k in self.kinds)
        raise InvalidInput(f"不支持的上传类型“{code}”，可选：{allowed}", details=[{"field": "kind"}])


@cache
def upload_kinds() -> UploadKindTable:
    return UploadKindTable.model_validate(json.loads((_DATA / "upload_kinds.json").read_text("utf-8")))


class UploadState(StrEnum):
    REQUESTED = "REQUESTED"  # 已申请，等待上传
    RECEIVED = "RECEIVED"  # 文件已接收并通过基本检查
    REJECTED = "REJECTED"  # 文件不符合申请条件
    EXPIRED = "EXPIRED"  # 上传地址过期仍未上传


class UploadEvent(StrEnum):
    OBJECT_ACCEPTED = "OBJECT_ACCEPTED"
    OBJECT_REFUSED = "OBJECT_REFUSED"
    URL_EXPIRED = "URL_EXPIRED"


UPLOAD_LIFECYCLE: TransitionTable[UploadState, UploadEvent] = TransitionTable(
    "upload",
    {
        (UploadState.REQUESTED, UploadEvent.OBJECT_ACCEPTED): UploadState.RECEIVED,
        (UploadState.REQUESTED, UploadEvent.OBJECT_REFUSED): UploadState.REJECTED,
        (UploadState.REQUESTED, UploadEvent.URL_EXPIRED): UploadState.EXPIRED,
    },
    labels={
        UploadState.REQUESTED: "等待上传",
        UploadState.RECEIVED: "已接收",
        UploadState.REJECTED: "已拒收",
        UploadState.EXPIRED: "已过期",
        UploadEvent.OBJECT_ACCEPTED: "接收文件",
        UploadEvent.OBJECT_REFUSED: "拒收文件",
        UploadEvent.URL_EXPIRED: "标记过期",
    },
)


class Upload(BaseModel):
    upload_id: str
    kind: str
    filename: str
    content_type: str
    max_bytes: int
    key: str
    owner_subject: str
    owner_username: str | None = None
    owner_role: str | None = None
    owner_uscc: Uscc = None
    region_code: str | None = None
    record_type: str | None = None  # for legacy exports: enterprise / person / project
    state: UploadState = UploadState.REQUESTED
    version: int = 1
    requested_at: str
    expires_at: str
    received_at: str | None = None
    size: int | None = None
    etag: str | None = None  # of the accepted object: later processing reads exactly this version
    version_id: str | None = None
    reject_reason: str | None = None

    def audit_state(self) -> dict:
        return self.model_dump(mode="json")


class ArrivedObject(BaseModel):
    key: str
    size: int = Field(ge=0)
    content_type: str | None = None
    etag: str | None = None
    version_id: str | None = None


_UNSAFE = re.compile(r"[^\w.\-()（）\u4e00-\u9fff]+")


def safe_filename(name: str) -> str:
    """Keep Chinese names readable, drop path parts and characters that make keys ambiguous."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = _UNSAFE.sub("_", base).strip("._") or "file"
    return cleaned[-120:]


def owner_key(p: Principal) -> str:
    """A key segment naming the uploader. Subjects of a generic OIDC IdP may contain "/" or be long, so they are
    hashed; the USCC's shape was checked when the principal was built."""
    if p.role == Role.ENTERPRISE and p.uscc:
        return f"e-{p.uscc}"
    digest = hashlib.sha256(p.subject.encode("utf-8")).hexdigest()[:16]
    region = p.region_code if p.region_code and p.region_code.isdigit() else "none"
    return f"r-{region}-{digest}"


def upload_key(kind: str, p: Principal, upload_id: str, filename: str) -> str:
    return f"{KEY_PREFIX}{kind}/{owner_key(p)}/{upload_id}/{safe_filename(filename)}"


def upload_id_from_key(key: str) -> str | None:
    """`uploads/{kind}/{owner}/{upload_id}/{filename}` -> upload_id, or None for a key not of that shape."""
    parts = key.split("/")
    if len(parts) != 5 or parts[0] + "/" != KEY_PREFIX or not parts[3]:
        return None
    return parts[3]


def new_upload(
    *,
    upload_id: str,
    principal: Principal,
    kind: str,
    filename: str,
    content_type: str,
    size: int,
    now: datetime,
    ttl_seconds: int,
    record_type: str | None = None,
) -> Upload:
    spec = upload_kinds().get(kind)
    if principal.role not in spec.roles:
        raise Forbidden(f"当前角色不能上传“{spec.label}”")
    if spec.needs_record_type and record_type not in ("enterprise", "person", "project"):
        raise InvalidInput(
            "请指定历史数据的记录类型：enterprise、person 或 project", details=[{"field": "record_type"}]
        )
    if content_type not in spec.content_types:
        raise InvalidInput(
            f"“{spec.label}”不接受文件类型 {content_type}，可选：{'、'.join(spec.content_types)}",
            details=[{"field": "content_type"}],
        )
    if size <= 0 or size > spec.max_bytes:
        raise InvalidInput(
            f"文件大小应在1字节至{spec.max_bytes // 1048576}MB之间，申报大小为{size}字节",
            details=[{"field": "size"}],
        )
    return Upload(
        upload_id=upload_id,
        kind=kind,
        filename=safe_filename(filename),
        content_type=content_type,
        max_bytes=spec.max_bytes,
        key=upload_key(kind, principal, upload_id, filename),
        owner_subject=principal.subject,
        owner_username=principal.username,
        owner_role=principal.role.value,
        owner_uscc=principal.uscc if principal.role == Role.ENTERPRISE else None,
        region_code=principal.region_code,
        record_type=record_type if spec.needs_record_type else None,
        requested_at=now.isoformat(),
        expires_at=(now + timedelta(seconds=ttl_seconds)).isoformat(),
    )


def check_arrival(upload: Upload, obj: ArrivedObject) -> list[str]:
    """Re-check what the presigned policy promised. Empty list = acceptable."""
    reasons = []
    if obj.key != upload.key:
        reasons.append("文件存放位置与上传申请不符")
    if obj.size <= 0:
        reasons.append("文件为空")
    elif obj.size > upload.max_bytes:
        reasons.append(f"文件大小{obj.size}字节超过上限{upload.max_bytes}字节")
    if obj.content_type and obj.content_type.split(";")[0].strip() != upload.content_type:
        reasons.append(f"文件类型{obj.content_type}与申请的{upload.content_type}不符")
    return reasons


def is_overdue(upload: Upload, now: datetime, grace_seconds: int) -> bool:
    return (
        upload.state == UploadState.REQUESTED
        and datetime.fromisoformat(upload.expires_at) + timedelta(seconds=grace_seconds) < now
    )
