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

    def get(self, key: str, version_id: str | None = None) -> bytes | None:
        from botocore.exceptions import ClientError

        kwargs = {"Bucket": self.bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            return aws.client("s3").get_object(**kwargs)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchVersion", "404", "NotFound"):
                return None
            raise

    def head_bytes(self, key: str, version_id: str | None, length: int) -> bytes | None:
        from botocore.exceptions import ClientError

        kwargs = {"Bucket": self.bucket, "Key": key, "Range": f"bytes=0-{length - 1}"}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            return aws.client("s3").get_object(**kwargs)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchVersion", "404", "NotFound"):
                return None
            raise

    def put(self, key: str, data: bytes, content_type: str) -> None:
        aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def presign_get(self, key: str, filename: str, expires_in: int, *, inline: bool = False) -> str:
        from urllib.parse import quote

        # RFC 5987 so that Chinese file names survive the download; `inline` lets a browser show a PDF or image.
        disposition = "inline" if inline else "attachment"
        return aws.client("s3").generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
            },
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
