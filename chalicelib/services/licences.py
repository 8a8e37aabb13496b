"""电子证照: the permit certificate sealed by its issuing authority, and the public check of a licence file.

The seal is a PAdES signature (adapters/licence_seal.py) with the authority's key; the licence identifier
(domain/elicence.py) is in the document's metadata, covered by the signature. A check answers whether the file is
genuine (intact, signed by an authority the platform trusts, nothing added after the seal) and, from the
identifier, the licence's status and whether a newer version replaced this one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.domain import elicence
from chalicelib.domain.clock import cn_datetime


class LicenceService:
    def __init__(self, sealer: Any, permits: Any):
        self.sealer = sealer  # the seal port: seal(pdf, …), check(pdf) -> SealCheck, subject(pdf)
        self.permits = permits  # the permit store (resolve by permit number)

    def seal(self, pdf: bytes, *, region: str, authority: str, box: tuple[float, float, float, float]) -> bytes:
        return self.sealer.seal(
            pdf,
            region=region,
            authority=authority,
            box=box,
            seal_png=_seal_png(authority),
            reason="核发建筑工程施工许可证",
        )

    def check(self, pdf: bytes) -> dict[str, Any]:
        """The public verdict on a licence file, in Chinese, with the reasons."""
        seal = self.sealer.check(pdf)
        answer: dict[str, Any] = {
            "genuine": False,
            "seal": {
                "signed": seal.signed,
                "intact": seal.intact,
                "trusted": seal.trusted,
                "whole": seal.whole,
                "signer": seal.signer,
                "signed_at": cn_datetime(seal.signed_at) if seal.signed_at else None,
            },
            "licence_id": None,
            "permit_no": None,
            "version": None,
            "current_version": None,
            "status": None,
            "status_label": None,
            "project_name": None,
            "problems": [seal.problem] if seal.problem else [],
        }
        if not seal.valid:
            answer["verdict"] = "不是有效的电子证照：" + "；".join(answer["problems"])
            return answer
        ident = self.sealer.subject(pdf)
        parsed = elicence.parse_licence_id(ident or "")
        app = self.permits.resolve("PERMITNO", parsed.serial) if parsed else None
        if app is None:
            answer["problems"].append("文件中的电子证照标识不是本平台核发的施工许可证")
            answer["verdict"] = "不是有效的电子证照：" + "；".join(answer["problems"])
            return answer
        code, label = elicence.status(str(app.state), parsed.version, app.cert_version)
        answer.update(
            genuine=True,
            licence_id=ident,
            permit_no=app.permit_no,
            version=parsed.version,
            current_version=app.cert_version,
            status=code,
            status_label=label,
            project_name=app.project_name,
        )
        if code == "SUPERSEDED":
            answer["verdict"] = (
                f"电子印章有效；该文件为第{parsed.version}版，已被第{app.cert_version}版取代，请以最新版本为准"
            )
        else:
            answer["verdict"] = f"电子印章有效，证照状态：{label}"
        return answer


@cache
def _seal_png(authority: str) -> bytes:
    """The seal image of an authority (drawn once per process)."""
    from chalicelib.domain.certificate import render_seal_png

    return render_seal_png(authority)
