"""The electronic seal (电子印章) of an issuing authority: PAdES signatures with pyHanko, and their validation.

Keys: one signing key and certificate per issuing authority, in Secrets Manager as JSON
`{"key_pem", "cert_pem", "chain_pem"}` under `{prefix}/{region}`; the trust anchors under `{prefix}/trust-roots`
(`{"certs_pem"}`). On AWS they are provisioned by the province's certificate authority and a missing one is an
error; on a development stage (`create_missing`) a test CA is generated on first use and stored the same way (moto's
Secrets Manager is durable locally), so a restart keeps verifying what was signed before.

pyHanko, asn1crypto and cryptography are imported only when a licence is sealed or checked.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters import aws

FIELD = "发证机关电子印章"


class SealKeyMissing(RuntimeError):
    """No signing key for the issuing authority (deployed stages never invent one)."""


@dataclass(frozen=True)
class AuthorityKey:
    key_pem: bytes
    cert_pem: bytes
    chain_pem: bytes  # the CA certificates above the authority's


@dataclass(frozen=True)
class SealCheck:
    """What a signature says: intact (the signed bytes are unchanged), trusted (the signer chains to the platform's
    trust roots), whole (nothing was added after the signature), who signed and when."""

    signed: bool
    intact: bool = False
    trusted: bool = False
    whole: bool = False
    signer: str | None = None
    signed_at: str | None = None
    problem: str | None = None

    @property
    def valid(self) -> bool:
        return self.signed and self.intact and self.trusted and self.whole


def _name(common: str, org: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _issue(subject, subject_key, issuer, issuer_key, *, ca: bool, years: int) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert=None, key=None) -> bytes:
    from cryptography.hazmat.primitives import serialization

    if cert is not None:
        return cert.public_bytes(serialization.Encoding.PEM)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def new_ca(name: str) -> tuple[bytes, bytes]:
    """A CA key and self-signed certificate (PEM): the local test root, or another party's in tests."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(name, name)
    cert = _issue(subject, key, subject, key, ca=True, years=20)
    return _pem(key=key), _pem(cert=cert)


def new_authority_key(authority: str, ca_key_pem: bytes, ca_cert_pem: bytes) -> AuthorityKey:
    """An issuing authority's signing key and certificate, issued by the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    ca_key = load_pem_private_key(ca_key_pem, None)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _issue(_name(authority, authority), key, ca_cert.subject, ca_key, ca=False, years=5)
    return AuthorityKey(_pem(key=key), _pem(cert=cert), ca_cert_pem)


class SecretsSealKeys:
    """Authority keys and trust roots from Secrets Manager; `create_missing` (development stages only) generates a
    test CA and the authorities' keys on first use."""

    def __init__(self, prefix: str, *, create_missing: bool):
        self.prefix = prefix.rstrip("/")
        self.create_missing = create_missing
        self._cache: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    @property
    def _sm(self):
        return aws.client("secretsmanager")

    def _read(self, name: str) -> dict[str, str] | None:
        if name in self._cache:
            return self._cache[name]
        try:
            raw = self._sm.get_secret_value(SecretId=f"{self.prefix}/{name}")["SecretString"]
        except self._sm.exceptions.ResourceNotFoundException:
            return None
        value = json.loads(raw)
        self._cache[name] = value
        return value

    def _write(self, name: str, value: dict[str, str]) -> dict[str, str]:
        """Create the secret once; a concurrent creator wins and its value is read back."""
        try:
            self._sm.create_secret(Name=f"{self.prefix}/{name}", SecretString=json.dumps(value))
        except self._sm.exceptions.ResourceExistsException:
            self._cache.pop(name, None)
            return self._read(name) or value
        self._cache[name] = value
        return value

    def _local_ca(self) -> dict[str, str]:
        ca = self._read("local-ca")
        if ca is None:
            key, cert = new_ca("浙江省建筑市场监管平台本地测试根证书")  # CN ≤ 64 bytes
            ca = self._write("local-ca", {"key_pem": key.decode(), "cert_pem": cert.decode()})
            self._write("trust-roots", {"certs_pem": ca["cert_pem"]})
        return ca

    def authority(self, region: str, name: str) -> AuthorityKey:
        with self._lock:
            value = self._read(region)
            if value is None:
                if not self.create_missing:
                    raise SealKeyMissing(f"发证机关（{name}）的电子印章密钥未配置（{self.prefix}/{region}）")
                ca = self._local_ca()
                made = new_authority_key(name, ca["key_pem"].encode(), ca["cert_pem"].encode())
                value = self._write(
                    region,
                    {
                        "key_pem": made.key_pem.decode(),
                        "cert_pem": made.cert_pem.decode(),
                        "chain_pem": made.chain_pem.decode(),
                    },
                )
            return AuthorityKey(value["key_pem"].encode(), value["cert_pem"].encode(), value["chain_pem"].encode())

    def trust_roots(self) -> list[bytes]:
        with self._lock:
            value = self._read("trust-roots")
            if value is None and self.create_missing:
                self._local_ca()
                value = self._read("trust-roots")
            if value is None:
                raise SealKeyMissing(f"电子印章信任根证书未配置（{self.prefix}/trust-roots）")
            return _split_pem(value["certs_pem"].encode())


class FileSealKeys(SecretsSealKeys):
    """The local platform's keys in its data folder (`LICENCE_SEAL_KEYS_DIR`), so that a restart keeps the test CA
    and every licence sealed before it still verifies (moto's Secrets Manager is not kept across restarts).
    Development stages only; each value is one JSON file written atomically."""

    def __init__(self, directory: str):
        super().__init__("local", create_missing=True)
        from pathlib import Path

        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str):
        return self.dir / f"{name}.json"

    def _read(self, name: str) -> dict[str, str] | None:
        if name in self._cache:
            return self._cache[name]
        path = self._path(name)
        if not path.is_file():
            return None
        value = json.loads(path.read_text("utf-8"))
        self._cache[name] = value
        return value

    def _write(self, name: str, value: dict[str, str]) -> dict[str, str]:
        import os

        path = self._path(name)
        if path.exists():
            return self._read(name) or value
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value), "utf-8")
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # fails if another process wrote it first: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        self._cache.pop(name, None)
        return self._read(name) or value


def _split_pem(data: bytes) -> list[bytes]:
    marker = b"-----END CERTIFICATE-----"
    return [part.strip() + b"\n" + marker + b"\n" for part in data.split(marker) if part.strip()]


def seal_pdf(
    pdf: bytes,
    key: AuthorityKey,
    *,
    box: tuple[float, float, float, float],
    seal_png: bytes,
    reason: str,
    location: str,
) -> bytes:
    """The PDF signed (PAdES B-B) by the authority's key, the seal image as the signature's visible appearance in
    `box` (x1, y1, x2, y2 on the first page)."""
    from PIL import Image
    from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    [cert] = load_certs_from_pemder_data(key.cert_pem)
    signer = signers.SimpleSigner(
        signing_cert=cert,
        signing_key=load_private_key_from_pemder_data(key.key_pem, None),
        cert_registry=SimpleCertificateStore.from_certs(list(load_certs_from_pemder_data(key.chain_pem))),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD, reason=reason, location=location, subfilter=fields.SigSeedSubFilter.PADES
    )
    style = StaticStampStyle(
        background=PdfImage(Image.open(io.BytesIO(seal_png))), border_width=0, background_opacity=1
    )
    pdf_signer = signers.PdfSigner(
        meta, signer=signer, stamp_style=style, new_field_spec=fields.SigFieldSpec(FIELD, box=box, on_page=0)
    )
    out = pdf_signer.sign_pdf(writer)
    return out.getvalue()


def check_pdf(pdf: bytes, trust_roots: list[bytes]) -> SealCheck:
    """Validate the document's seal: its digest, its signer's chain to the trust roots, and that nothing follows
    it in the file. Anything that cannot be read is a failed check with the reason, never an exception."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # a damaged file is a verdict, not a server error
        return SealCheck(signed=False, problem=f"文件无法读取：{type(exc).__name__}")
    if not signatures:
        return SealCheck(signed=False, problem="文件没有电子印章")
    sig = signatures[-1]
    vc = ValidationContext(
        trust_roots=[c for pem in trust_roots for c in load_certs_from_pemder_data(pem)],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        st = validate_pdf_signature(sig, vc)
    except (SignatureValidationError, ValueError, KeyError) as exc:
        return SealCheck(signed=True, problem=f"电子印章无法验证：{exc}")
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    signer = st.signing_cert.subject.native.get("common_name") if st.signing_cert else None
    whole = st.coverage == SignatureCoverageLevel.ENTIRE_FILE
    problem = None
    if not st.intact:
        problem = "文件在盖章后被改动（摘要不符）"
    elif not st.trusted:
        problem = "电子印章不是由平台认可的发证机关签发"
    elif not whole:
        problem = "盖章后文件被追加了内容"
    return SealCheck(
        signed=True,
        intact=bool(st.intact),
        trusted=bool(st.trusted),
        whole=whole,
        signer=signer,
        signed_at=st.signer_reported_dt.isoformat() if st.signer_reported_dt else None,
        problem=problem,
    )


def document_subject(pdf: bytes) -> str | None:
    """The document information's /Subject (where the platform puts the licence identifier)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        info = PdfFileReader(io.BytesIO(pdf), strict=False).trailer_view.get("/Info")
        value = info.get_object().get("/Subject") if info is not None else None
    except Exception:  # unreadable: no identifier
        return None
    return str(value) if value is not None else None


class PadesSealer:
    """The seal port of the licence service: seal with an authority's key, check against the trust roots."""

    def __init__(self, keys: SecretsSealKeys):
        self.keys = keys

    def seal(
        self,
        pdf: bytes,
        *,
        region: str,
        authority: str,
        box: tuple[float, float, float, float],
        seal_png: bytes,
        reason: str,
    ) -> bytes:
        return seal_pdf(
            pdf, self.keys.authority(region, authority), box=box, seal_png=seal_png, reason=reason, location=authority
        )

    def check(self, pdf: bytes) -> SealCheck:
        return check_pdf(pdf, self.keys.trust_roots())

    def subject(self, pdf: bytes) -> str | None:
        return document_subject(pdf)
