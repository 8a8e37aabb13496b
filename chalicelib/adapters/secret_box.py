"""Sealing small secrets at rest (second-factor keys) and keyed digests (activation codes), from one account key.

Two sub-keys are derived from the account secret with HKDF-SHA256 (RFC 5869), so the encryption key and the HMAC
key never coincide: AES-256-GCM with a random 96-bit nonce for sealing, HMAC-SHA256 for digests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"cmsp-accounts", info=info).derive(secret)


class AesSecretBox:
    def __init__(self, secret: bytes):
        if len(secret) < 16:
            raise ValueError("the account secret must be at least 16 bytes")
        self._aead = AESGCM(_derive(secret, b"seal"))
        self._mac_key = _derive(secret, b"digest")

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), b"cmsp")
        return "v1." + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str) -> str:
        if not sealed.startswith("v1."):
            raise ValueError("unknown sealing format")
        raw = base64.urlsafe_b64decode(sealed[3:])
        return self._aead.decrypt(raw[:12], raw[12:], b"cmsp").decode()

    def digest(self, value: str) -> str:
        return hmac.new(self._mac_key, value.encode(), hashlib.sha256).hexdigest()
