"""What the per-request account and session check costs, against the JWT verification it follows, in one run.

On in-process moto with the declared resources and the demo accounts: a county official's real token is checked
N times by
  1. the token verifier alone (signature, issuer, audience, expiry: the baseline, what every request paid before),
  2. the gate with its per-process cache (AUTH_CACHE_SECONDS=5, the deployed setting): hits after the first read,
  3. the gate without cache (every request reads account + session: the worst case, e.g. a cold container).
DynamoDB requests per check are counted with a botocore hook.

Run: .venv/bin/python bench/auth_gate.py [n=2000]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(n: int) -> None:
    for k, v in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }.items():
        os.environ[k] = v
    import boto3
    from moto import mock_aws

    from chalicelib import wiring
    from chalicelib.adapters import aws
    from infra.bootstrap import bootstrap
    from infra.local.demo import seed_demo
    from infra.local.runtime import stage_environment
    from tests.conftest import moto_public_jwks

    with mock_aws(), tempfile.TemporaryDirectory() as tmp:
        session = boto3.session.Session(region_name="us-east-1")
        out = bootstrap(session, region="us-east-1", endpoint_url=None, queue_visibility_timeout=0)
        jwks = Path(tmp) / "jwks.json"
        jwks.write_text(json.dumps(moto_public_jwks()))
        os.environ.update({**stage_environment("local"), **out["env"], "OIDC_JWKS_URL": f"file://{jwks}"})
        wiring.reset()
        seed_demo()
        from chalicelib.domain.audit import RequestMeta

        auth = wiring.get_auth_service()
        token = auth.login("county_yiwu", "Demo#2015zj", RequestMeta(request_id="bench")).tokens.id_token
        header = f"Bearer {token}"
        calls: list[str] = []
        aws.client("dynamodb").meta.events.register("before-call.dynamodb", lambda **kw: calls.append(kw["event_name"]))

        def run(fn) -> tuple[float, float]:
            fn()  # warm
            calls.clear()
            t = time.perf_counter()
            for _ in range(n):
                fn()
            return (time.perf_counter() - t) / n * 1e6, len(calls) / n

        base, base_req = run(lambda: auth.verifier.claims(token))
        auth.cache.ttl = 5.0
        cached, cached_req = run(lambda: auth.authenticate(header))
        auth.cache.ttl = 0.0
        auth.cache.forget("county_yiwu")
        cold, cold_req = run(lambda: auth.authenticate(header))
    print("| case | µs per request | ratio to token verification | DynamoDB requests per request |")
    print("|---|---|---|---|")
    print(f"| token verification only (baseline) | {base:.0f} | 1.00 | {base_req:.2f} |")
    print(f"| gate, per-process cache 5 s | {cached:.0f} | {cached / base:.2f} | {cached_req:.3f} |")
    print(f"| gate, no cache (every request reads) | {cold:.0f} | {cold / base:.2f} | {cold_req:.2f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
