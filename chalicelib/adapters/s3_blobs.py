"""The upload bucket: presigned POST for browsers, HEAD for the arrival check."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws
from chalicelib.domain.uploads import ArrivedObject


class S3BlobStore:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
        # On AWS, S3 enforces these conditions; moto does not, so the intake handler checks them again.
        return aws.client("s3").generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_bytes],
                ["eq", "$key", key],
            ],
            ExpiresIn=expires_in,
        )

    def head(self, key: str) -> ArrivedObject | None:
        from botocore.exceptions import ClientError

        try:
            resp = aws.client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ArrivedObject(
            key=key,
            size=int(resp.get("ContentLength", 0)),
            content_type=resp.get("ContentType"),
            etag=(resp.get("ETag") or "").strip('"') or None,
            version_id=resp.get("VersionId"),
        )
