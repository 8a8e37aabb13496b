"""Shared fixtures. Integration tests run on in-process moto with the resources created by infra/bootstrap.py."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Fake credentials before anything imports boto3: no test may ever reach real AWS.
for k, v in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",  # in-process DynamoDB Streams (platform-notes.md)
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}.items():
    os.environ[k] = v
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


def moto_public_jwks() -> dict:
    import moto.cognitoidp

    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))


def moto_private_jwk() -> dict:
    import moto.cognitoidp

    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))


@pytest.fixture
def platform(tmp_path, monkeypatch):
    """In-process moto with every declared resource, the app's settings pointing at it, demo users seeded."""
    import boto3
    from moto import mock_aws

    from chalicelib import wiring
    from infra.bootstrap import bootstrap
    from infra.local.demo import seed_demo
    from infra.local.national_sim import NationalSimulator
    from infra.local.runtime import stage_environment

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        session = boto3.session.Session(region_name="us-east-1")
        out = bootstrap(session, region="us-east-1", endpoint_url=None, queue_visibility_timeout=0)
        jwks_file = tmp_path / "jwks.json"
        jwks_file.write_text(json.dumps(moto_public_jwks()))
        env = {**stage_environment("local"), **out["env"], "OIDC_JWKS_URL": f"file://{jwks_file}"}
        # the ministry's interface as the local runtime has it: the simulator (the permit check asks it about
        # persons locked in other provinces; the sync tests start their own)
        national = NationalSimulator(seed=1).start()
        env.update(NATIONAL_API_URL=national.url, NATIONAL_API_KEY=national.api_key)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        wiring.reset()
        seed_demo()
        try:
            yield {"session": session, "national": national, **out}
        finally:
            national.stop()
            wiring.reset()


@pytest.fixture
def client(platform):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as c:
        yield c


@pytest.fixture
def login(client):
    """login("province") -> Authorization headers for that demo account."""
    from infra.local.demo import login_body

    cache: dict[str, dict[str, str]] = {}

    def _login(username: str) -> dict[str, str]:
        if username not in cache:
            resp = client.http.post(
                "/auth/login", headers={"Content-Type": "application/json"}, body=json.dumps(login_body(username))
            )
            assert resp.status_code == 200, resp.body
            cache[username] = {"Authorization": f"Bearer {json.loads(resp.body)['id_token']}"}
        return cache[username]

    return _login


@pytest.fixture
def serialized_moto(monkeypatch):
    """In-process moto's backends are not thread-safe ("dictionary changed size during iteration"). Concurrency
    tests serialise each *API call* with a lock: the calls of different threads still interleave between a read and
    the conditional write that follows it, which is the race those tests are about (as on DynamoDB itself)."""
    import threading

    from botocore.client import BaseClient

    lock = threading.Lock()
    original = BaseClient._make_api_call

    def locked(self, operation_name, api_params):
        with lock:
            return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", locked)


def today_in_beijing():
    """The service's notion of today (Asia/Shanghai): tests compare with it, not with the machine's date."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


# ---- figures: measured numbers that tests report in the run's output (fuzz counts, matrix cells, ...) ----------
FIGURES = ROOT / "test-output" / "figures"


def record_figure(name: str, text: str) -> None:
    """Keep a measured figure for the summary at the end of the test run (works under xdist: a file per figure)."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.txt").write_text(text.rstrip() + "\n", "utf-8")


def pytest_sessionstart(session):
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller owns the folder
        return
    if FIGURES.exists():
        for f in FIGURES.glob("*.txt"):
            f.unlink()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput") or not FIGURES.exists():
        return
    files = sorted(FIGURES.glob("*.txt"))
    if files:
        terminalreporter.section("measured figures")
        for f in files:
            terminalreporter.write_line(f"[{f.stem}] {f.read_text('utf-8').strip()}")
