"""The embedded local AWS and runtime: `make run` / `python -m infra.local.runtime`.

One supervised process group:
  1. moto in server mode (child process; Step Functions execution switched on before anything is created),
  2. the bootstrap of every declared resource (infra/declarations.py),
  3. demo accounts and data,
  4. the Chalice HTTP server (threaded) serving the real app,
  5. one SQS poller per `@on_sqs_message` handler and a scheduler for every `@schedule` (infra/local/pumps.py).
Ctrl-C (SIGINT) or SIGTERM stops all of it; if moto dies, everything stops (its state is in memory).

Environment: PORT (8000), HOST (127.0.0.1), MOTO_PORT (5050), NATIONAL_PORT (8600, the MOHURD simulator), SCHEDULE_SPEEDUP (1), DEMO (1),
UPLOAD_URL_TTL_SECONDS / UPLOAD_GRACE_SECONDS (passed to the app), LOCAL_QUEUE_VISIBILITY (5 s).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("cmsp.local")


def _wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    """In the moto child: get SIGTERM when the supervisor dies, even by SIGKILL (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def start_moto(host: str, port: int, data_dir: Path | None = None) -> subprocess.Popen:
    """moto in server mode; with a data folder, the durable variant (infra/local/durable_moto.py) that journals
    every change there. Without one (DATA_DIR=none), the plain in-memory moto."""
    env = {**os.environ, "MOTO_PORT": str(port)}
    if data_dir is not None:
        cmd = [
            sys.executable,
            "-m",
            "infra.local.durable_moto",
            "-H",
            host,
            "-p",
            str(port),
            "--data-dir",
            str(data_dir),
        ]
        log_file = open(data_dir / "moto.log", "ab")  # noqa: SIM115 - handed to the child
    else:
        cmd = [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]
        log_file = subprocess.DEVNULL
    # Its own session: a terminal Ctrl-C reaches the supervisor only, which then stops moto last, after the pumps.
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
        start_new_session=True,
        preexec_fn=_die_with_parent,  # safe: no threads exist yet when the runtime starts moto
    )
    _wait_http(f"http://{host}:{port}/moto-api/data.json", 30, proc)
    # Must precede the creation of any state machine (earlier ones live in a backend that cannot execute).
    req = urllib.request.Request(
        f"http://{host}:{port}/moto-api/config",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=5).read()
    return proc


def _allowed_methods(handler) -> str:
    """The methods the app routes for the request's path (RFC 9110: a 405 carries Allow)."""
    app = handler.local_gateway._app_object
    path = handler.path.split("?", 1)[0]
    try:
        match = handler.local_gateway.event_converter._route_matcher.match_route(path)
    except ValueError:
        return "OPTIONS"
    return ", ".join(sorted({*app.routes[match.route].keys(), "OPTIONS"}))


def _json_error(handler, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(
        {"code": code, "message": message, "details": {"request_id": uuid.uuid4().hex}}, ensure_ascii=False
    ).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def _answer_unknown_methods() -> None:
    """Chalice's local server is a BaseHTTPRequestHandler: a method it has no do_X for (TRACE, CONNECT) gets an
    HTML 501, and requests it cannot parse (an over-long request line, a malformed header) get BaseHTTP's HTML error
    page. API Gateway answers such requests itself; answer them here in the platform's shape.
    Chalice registers do_GET/do_POST/... only for the methods the app routes, so every other method lands here."""
    from chalice.local import ChaliceRequestHandler

    def method_not_allowed(self) -> None:
        _json_error(self, 405, "METHOD_NOT_ALLOWED", "不支持的请求方法", {"Allow": _allowed_methods(self)})

    def unknown(self, name: str):
        if name.startswith("do_"):
            return lambda: method_not_allowed(self)
        raise AttributeError(name)

    ChaliceRequestHandler.__getattr__ = unknown  # any do_X the handler lacks (TRACE, CONNECT, QUERY ...)

    messages = {
        400: ("INVALID_INPUT", "请求格式不正确"),
        414: ("URI_TOO_LONG", "请求地址过长"),
        431: ("HEADERS_TOO_LARGE", "请求头过大"),
    }

    def send_error(self, code, message=None, explain=None) -> None:
        self.close_connection = True
        kind, text = messages.get(code, ("BAD_REQUEST", "请求无法处理"))
        _json_error(self, code, kind, text, {"Connection": "close"})

    ChaliceRequestHandler.send_error = send_error


def _answer_unknown_routes() -> None:
    """Chalice's local gateway answers a path no route matches like API Gateway's default: an English 403 that, when
    the request carries an Authorization header, echoes the whole header (the bearer token). The template replaces
    those gateway responses on AWS (infra/template.py GATEWAY_RESPONSES); answer the same way here: the platform's
    Chinese 404, nothing echoed."""
    from chalice import local

    original = local.LocalGateway._generate_lambda_event

    class RouteNotFound(local.LocalGatewayException):
        CODE = 404

    def generate(self, method, path, headers, body):
        try:
            return original(self, method, path, headers, body)
        except ValueError:
            request_id = uuid.uuid4().hex
            payload = {"code": "NOT_FOUND", "message": "请求的地址不存在", "details": {"request_id": request_id}}
            raise RouteNotFound(
                {"Content-Type": "application/json; charset=utf-8", "X-Request-Id": request_id},
                json.dumps(payload, ensure_ascii=False).encode(),
            ) from None

    local.LocalGateway._generate_lambda_event = generate


WEB_DIST = ROOT / "web" / "dist"
_WEB_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".json": "application/json",
}


def _serve_web_ui(dist: Path = WEB_DIST) -> None:
    """The web UI (built by Vite into web/dist) at /ui/ on the API's own origin, as CloudFront serves it from S3 on
    AWS. Everything else goes to the Chalice app unchanged."""
    from chalice.local import ChaliceRequestHandler

    original = ChaliceRequestHandler.do_GET

    def do_get(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/ui":
            self.send_response(301)
            self.send_header("Location", "/ui/")
            self.end_headers()
            return
        if not path.startswith("/ui/"):
            return original(self)
        rel = path[len("/ui/") :] or "index.html"
        target = (dist / rel).resolve()
        if not str(target).startswith(str(dist.resolve())) or not target.is_file():
            target = dist / "index.html"  # hash routing: unknown paths get the app shell
        if not target.is_file():
            body = "网页界面尚未构建：请运行 make web".encode()
            self.send_response(503)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        data = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", _WEB_TYPES.get(target.suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(len(data)))
        immutable = "/assets/" in path
        self.send_header("Cache-Control", "public, max-age=31536000, immutable" if immutable else "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(data)

    ChaliceRequestHandler.do_GET = do_get


def stage_environment(stage: str) -> dict[str, str]:
    cfg = json.loads((ROOT / ".chalice" / "config.json").read_text("utf-8"))
    env = dict(cfg.get("environment_variables", {}))
    env.update(cfg.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return env


def aws_environment(endpoint: str, moto_port: int, region: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "MOTO_PORT": str(moto_port),
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",  # moto's DynamoDB Streams need it (platform-notes.md)
    }


class LocalPlatform:
    """Everything `make run` starts, startable and stoppable from tests too."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        moto_port: int = 5050,
        speedup: float = 1.0,
        demo: bool = True,
        region: str = "us-east-1",
        queue_visibility: int = 5,
        extra_env: dict[str, str] | None = None,
        national_port: int | None = 8600,
        data_dir: Path | None = None,
    ):
        self.data_dir = data_dir  # None: everything in memory (tests that need no persistence)
        self.restored: dict[str, Any] = {}
        self.recovered: dict[str, int] = {}
        self.invalid_items: list[dict[str, Any]] = []
        self._lock_file: Any = None
        self.host = host
        self.port = port
        self.moto_port = moto_port
        self.speedup = speedup
        self.demo = demo
        self.region = region
        self.queue_visibility = queue_visibility
        self.extra_env = extra_env or {}
        self.national_port = national_port
        self.national: Any = None
        self.stop_event = threading.Event()
        self.moto: subprocess.Popen | None = None
        self.server: Any = None
        self.threads: list[threading.Thread] = []
        self.pollers: list[Any] = []
        self.scheduler: Any = None
        self.accounts: list[Any] = []
        self.seeded: dict[str, int] = {}

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.moto_port}"

    def start(self) -> None:
        ports = [("MOTO_PORT", self.moto_port), ("PORT", self.port)]
        if self.national_port:
            ports.append(("NATIONAL_PORT", self.national_port))
        for what, port in ports:
            if not _port_free(self.host, port):
                raise RuntimeError(f"port {port} ({what}) is already in use: stop the other process or set {what}")
        fresh = True
        if self.data_dir is not None:
            self._take_data_dir()
            from infra.local.durable_moto import Store

            fresh = Store(self.data_dir).is_empty()
        self.moto = start_moto(self.host, self.moto_port, self.data_dir)
        if self.data_dir is not None:
            (self.data_dir / "run").mkdir(exist_ok=True)
            (self.data_dir / "run" / "moto.pid").write_text(str(self.moto.pid))
            (self.data_dir / "run" / "runtime.pid").write_text(str(os.getpid()))
        os.environ.update(aws_environment(self.endpoint, self.moto_port, self.region))
        if self.national_port is not None:
            # The ministry's interface is not public: a simulator with its own validation and fault injection.
            from infra.local.national_sim import NationalSimulator

            self.national = NationalSimulator(
                host=self.host,
                port=self.national_port,
                state_file=self.data_dir / "national-sim.json" if self.data_dir is not None else None,
            ).start()
            if self.demo:
                self.national.load_demo()
            os.environ["NATIONAL_API_URL"] = self.national.url
            os.environ["NATIONAL_API_KEY"] = self.national.api_key

        import boto3

        from infra.bootstrap import bootstrap

        session = boto3.session.Session(region_name=self.region)
        out = bootstrap(
            session, region=self.region, endpoint_url=self.endpoint, queue_visibility_timeout=self.queue_visibility
        )
        os.environ.update(stage_environment("local"))
        os.environ.update(out["env"])
        os.environ.setdefault("PUBLIC_BASE_URL", self.base_url)  # printed on certificates' QR codes
        if self.data_dir is not None:  # the test CA and the seal keys survive restarts with the data
            os.environ.setdefault("LICENCE_SEAL_KEYS_DIR", str(self.data_dir / "licence-seal"))
        os.environ.update(self.extra_env)
        if self.data_dir is not None:
            # everything kept in the data folder goes back into the freshly created resources, before any request
            req = urllib.request.Request(f"{self.endpoint}/__durable/restore", method="POST")
            self.restored = json.loads(urllib.request.urlopen(req, timeout=600).read())
        from infra.local.demo import DEMO_ACCOUNTS

        self.accounts = list(DEMO_ACCOUNTS) if self.demo else []
        seed = self.demo and fresh  # the demo seed runs on an empty data folder only

        sys.path.insert(0, str(ROOT))
        from chalicelib import wiring

        wiring.reset()
        from app import app

        if seed:
            from infra.local.demo import seed_demo

            self.accounts = seed_demo()
        elif self.demo:
            # a data folder from before platform accounts existed: its demo logins need their account records
            from infra.local.demo import adopt_demo_accounts

            adopt_demo_accounts()

        if seed:
            from infra.local.demo import seed_registry

            self.seeded = seed_registry()
        if self.data_dir is not None and not fresh:
            from infra.local.restore_check import check_restored

            self.invalid_items = check_restored(self.data_dir)
            # Step Functions executions are not kept: open workflows are driven again from their records before the
            # API takes requests (their first tasks wait in the queue until the pumps start below)
            from chalicelib.domain.audit import RequestMeta

            self.recovered = wiring.get_permit_service().recover_workflows(
                RequestMeta(request_id="local-restart", source_ip="runtime")
            )
        self._start_http(app)
        from infra.local.pumps import event_pumps

        self.pollers, self.scheduler = event_pumps(
            app,
            sqs=session.client("sqs"),
            region=self.region,
            stop=self.stop_event,
            speedup=self.speedup,
            dynamodb=session.client("dynamodb"),
            streams=session.client("dynamodbstreams"),
            state_dir=self.data_dir / "pumps" if self.data_dir is not None else None,
        )
        for t in [*self.pollers, *([self.scheduler] if self.scheduler else [])]:
            t.start()
            self.threads.append(t)
        _wait_http(f"{self.base_url}/health", 30)

    def _take_data_dir(self) -> None:
        """One platform per data folder: a second one on the same folder would corrupt the journal."""
        import fcntl

        assert self.data_dir is not None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.data_dir / ".lock", "w")  # noqa: SIM115 - held while running
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RuntimeError(
                f"data folder {self.data_dir} is in use by another running platform (stop it, or set DATA_DIR)"
            ) from None

    def _start_http(self, app: Any) -> None:
        from chalice.config import Config
        from chalice.local import create_local_server

        config = Config.create(
            chalice_stage="local",
            app_name=app.app_name,
            project_dir=str(ROOT),
            chalice_app=app,
            config_from_disk=json.loads((ROOT / ".chalice" / "config.json").read_text("utf-8")),
        )
        _answer_unknown_methods()
        _answer_unknown_routes()
        _serve_web_ui()
        self.server = create_local_server(app, config, self.host, self.port)
        t = threading.Thread(target=self.server.server.serve_forever, name="http", daemon=True)
        t.start()
        self.threads.append(t)

    def healthy(self) -> bool:
        return self.moto is not None and self.moto.poll() is None

    def stop(self) -> None:
        self.stop_event.set()
        if self.server is not None:
            self.server.server.shutdown()
            self.server.server.server_close()
        for t in self.threads:
            t.join(timeout=5)
        if self.national is not None:
            self.national.stop()
        if self.moto is not None and self.moto.poll() is None:
            self.moto.terminate()  # the durable moto compacts its journal into a snapshot first
            try:
                self.moto.wait(timeout=120 if self.data_dir is not None else 5)
            except subprocess.TimeoutExpired:
                self.moto.kill()  # safe: the journal is intact, the next start replays it
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def banner(self) -> str:
        lines = [
            "",
            "浙江省建筑市场监管与诚信信息平台 — local platform is running",
            f"  API base URL     {self.base_url}",
            f"  Health           {self.base_url}/health",
            f"  OpenAPI          {self.base_url}/openapi.json",
            f"  Web UI           {self.base_url}/ui/  (officials' workbench, enterprise portal, public pages)",
            f"  Local AWS (moto) {self.endpoint}   dashboard: {self.endpoint}/moto-api/",
            f"  Event pumps      {len(self.pollers)} poller(s): {', '.join(p.fn_name for p in self.pollers)}",
        ]
        if self.data_dir is None:
            lines.append(
                "  Data             in memory only (DATA_DIR=none): everything is gone when the platform stops"
            )
        else:
            r = self.restored
            kept = (
                f"restored {r.get('items', 0)} items, {r.get('objects', 0)} files, {r.get('messages', 0)} queued "
                f"messages, {r.get('users', 0)} accounts in {r.get('restore_ms', 0)} ms"
                if r.get("items")
                else "new, empty data folder: demo data seeded"
            )
            lines.append(f"  Data folder      {self.data_dir}  ({kept}; `make reset` wipes it)")
            if self.recovered:
                lines.append(
                    f"  Workflows        {self.recovered['resumed']} permit workflow(s) re-driven after the restart, "
                    f"{self.recovered['running']} still running"
                )
            if self.invalid_items:
                lines.append(
                    f"  Restore check    {len(self.invalid_items)} stored item(s) no longer validate: "
                    f"see {self.data_dir / 'restore-report.json'} (kept, not dropped)"
                )
        if self.national is not None:
            lines.append(
                f"  National sim     {self.national.url}   (MOHURD interface simulator; stats: /__control/stats)"
            )
        if self.scheduler:
            jobs = ", ".join(f"{n} [{s.expression}]" for n, s, _ in self.scheduler.jobs)
            lines.append(f"  Schedules        x{self.speedup:g} speed-up: {jobs}")
        if self.accounts:
            from infra.local.demo import DEMO_PASSWORD

            if self.seeded:
                lines.append(f"  Demo data        {self.seeded}")
            from infra.local.demo import DEMO_PERMIT_VID

            lines.append(f"  Permit QR page   {self.base_url}/ui/#/public/verify?vid={DEMO_PERMIT_VID}")
            lines.append(f"  Demo accounts    (password for all: {DEMO_PASSWORD}; 动态口令 for the province-level")
            lines.append("                   accounts: `make totp USER=<username>` or the key in an authenticator app)")
            for a in self.accounts:
                scope = a.uscc or a.region_code or "-"
                key = f"  TOTP key {a.totp_secret}" if a.totp_secret else ""
                lines.append(f"    {a.username:<14} {a.role:<18} {scope:<20} {a.name}{key}")
        from infra.local.demo import DEMO_PASSWORD

        body = json.dumps({"username": "county_yiwu", "password": DEMO_PASSWORD})
        lines.append(
            f"  Login: curl -X POST {self.base_url}/auth/login -H 'Content-Type: application/json' -d '{body}'"
        )
        lines.append("  Stop with Ctrl-C.")
        return "\n".join(lines)


def data_dir_from_env() -> Path | None:
    """DATA_DIR (default .local/data under the project); "none" keeps everything in memory."""
    raw = os.environ.get("DATA_DIR", str(ROOT / ".local" / "data"))
    if raw.strip().lower() in ("", "none", "memory"):
        return None
    path = Path(raw)
    return path if path.is_absolute() else (ROOT / path)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    platform = LocalPlatform(
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        moto_port=int(os.environ.get("MOTO_PORT", "5050")),
        speedup=float(os.environ.get("SCHEDULE_SPEEDUP", "1")),
        demo=os.environ.get("DEMO", "1") not in ("0", "false", "no"),
        queue_visibility=int(os.environ.get("LOCAL_QUEUE_VISIBILITY", "5")),
        national_port=int(os.environ.get("NATIONAL_PORT", "8600")),
        data_dir=data_dir_from_env(),
    )
    stopping = threading.Event()

    def _stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        platform.start()
    except Exception:
        log.exception("local platform failed to start")
        platform.stop()
        return 1
    print(platform.banner(), flush=True)
    rc = 0
    while not stopping.wait(1.0):
        if not platform.healthy():
            log.error("moto (the local AWS) exited; stopping the platform")
            rc = 1
            break
    print("\nstopping ...", flush=True)
    platform.stop()
    print("stopped.", flush=True)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
