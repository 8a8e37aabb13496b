"""Every AWS resource the platform needs, declared once.

Two consumers read these declarations:
- `infra/template.py` turns them into the CloudFormation merge template for `chalice package` (AWS);
- `infra/bootstrap.py` creates the same resources with boto3 against moto (local runtime, integration tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.identity import TOKEN_ROLES
from chalicelib.names import IMPORT_JOBS_QUEUE, PERMIT_TASKS_QUEUE, UPLOAD_EVENTS_QUEUE


@dataclass(frozen=True)
class Gsi:
    name: str
    pk: str
    sk: str
    pk_type: str = "S"
    sk_type: str = "S"
    projection: str = "ALL"


@dataclass(frozen=True)
class Table:
    logical_id: str
    env: str  # settings variable carrying the table name
    local_name: str
    pk: str
    sk: str
    pk_type: str = "S"
    sk_type: str = "S"
    gsis: tuple[Gsi, ...] = ()
    ttl_attribute: str | None = None
    stream: str | None = None  # StreamViewType
    purpose: str = ""


@dataclass(frozen=True)
class Queue:
    logical_id: str
    name: str
    visibility_timeout: int
    max_receive_count: int  # redrive to the DLQ after this many receives
    retention_seconds: int = 1_209_600  # 14 days: a failed message waits for a human for two weeks
    dlq_retention_seconds: int = 1_209_600
    purpose: str = ""

    @property
    def dlq_logical_id(self) -> str:
        return f"{self.logical_id}Dlq"

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"


@dataclass(frozen=True)
class Notification:
    queue: str  # Queue.logical_id
    prefix: str
    events: tuple[str, ...] = ("s3:ObjectCreated:*",)


@dataclass(frozen=True)
class Bucket:
    logical_id: str
    env: str
    local_name: str
    notifications: tuple[Notification, ...] = ()
    browser_post: bool = False  # CORS for presigned POST from the web UI
    purpose: str = ""


@dataclass(frozen=True)
class UserPool:
    logical_id: str
    client_logical_id: str
    local_name: str
    groups: tuple[str, ...]
    custom_attributes: tuple[str, ...]
    # Attributes users may write themselves. Region, USCC and organisation are NOT here: a user who could edit
    # `custom:region_code` could widen their own authority.
    user_writable: tuple[str, ...] = ("name", "email", "phone_number")


@dataclass(frozen=True)
class StateMachine:
    logical_id: str
    env: str  # settings variable carrying the state machine's ARN
    local_name: str
    definition: str  # file under infra/statemachines/ (ASL, JSONPath only)
    queues: tuple[str, ...] = ()  # Queue logical ids its tasks send to (substituted as ${<LogicalId>Url})
    purpose: str = ""


@dataclass(frozen=True)
class Declarations:
    tables: tuple[Table, ...]
    queues: tuple[Queue, ...]
    buckets: tuple[Bucket, ...]
    user_pool: UserPool
    state_machines: tuple[StateMachine, ...] = field(default=())


MAIN_TABLE = Table(
    logical_id="MainTable",
    env="MAIN_TABLE",
    local_name="cmsp-main",
    pk="pk",
    sk="sk",
    gsis=(
        Gsi("gsi1", "gsi1pk", "gsi1sk"),  # status indexes (sparse): work queues keyed by state (and region)
        Gsi("gsi2", "gsi2pk", "gsi2sk"),  # owner indexes: everything of one enterprise / user
        Gsi("gsi3", "gsi3pk", "gsi3sk"),  # assignment ("assigned to me") and per-record lookups
        Gsi("gsi4", "gsi4pk", "gsi4sk"),  # review queue by county and state (sparse)
        Gsi("gsi5", "gsi5pk", "gsi5sk"),  # review queue by city and state (sparse)
        Gsi("gsi6", "gsi6pk", "gsi6sk"),  # review queue of the whole province by state (sparse)
    ),
    ttl_attribute="expires_at_epoch",
    stream="NEW_AND_OLD_IMAGES",
    purpose="Registries, uploads, workflow items (single-table design; see docs/architecture.md)",
)

AUDIT_TABLE = Table(
    logical_id="AuditTable",
    env="AUDIT_TABLE",
    local_name="cmsp-audit",
    pk="pk",
    sk="sk",
    sk_type="N",
    gsis=(Gsi("by_actor", "actor_pk", "actor_sk"), Gsi("by_day", "day_pk", "day_sk")),
    purpose="Append-only, hash-chained audit trail (谁录入、谁负责)",
)

UPLOAD_EVENTS = Queue(
    logical_id="UploadEventsQueue",
    name=UPLOAD_EVENTS_QUEUE,
    visibility_timeout=180,  # >= 6x the handler timeout (30 s), as AWS recommends for SQS event sources
    max_receive_count=5,
    purpose="S3 ObjectCreated notifications of the upload bucket",
)

IMPORT_JOBS = Queue(
    logical_id="ImportJobsQueue",
    name=IMPORT_JOBS_QUEUE,
    visibility_timeout=1800,  # 6x the import function's 300 s timeout
    max_receive_count=3,  # a job that crashes three times needs a human (its state stays RUNNING, visible in the API)
    purpose="Import jobs: one message per accepted sheet upload",
)

PERMIT_TASKS = Queue(
    logical_id="PermitTasksQueue",
    name=PERMIT_TASKS_QUEUE,
    visibility_timeout=180,
    max_receive_count=5,
    purpose="Steps of the permit workflow (checks, human-task tokens, issuing) sent by Step Functions",
)

PERMIT_WORKFLOW = StateMachine(
    logical_id="PermitApplicationStateMachine",
    env="PERMIT_STATE_MACHINE_ARN",
    local_name="cmsp-permit-application",
    definition="permit_application.asl.json",
    queues=(PERMIT_TASKS.logical_id,),
    purpose="施工许可申请审批（令第18号）",
)

UPLOAD_BUCKET = Bucket(
    logical_id="UploadBucket",
    env="UPLOAD_BUCKET",
    local_name="cmsp-uploads",
    notifications=(Notification(queue=UPLOAD_EVENTS.logical_id, prefix="uploads/"),),
    browser_post=True,
    purpose="Spreadsheets and scans uploaded through presigned POST",
)

USER_POOL = UserPool(
    logical_id="UserPool",
    client_logical_id="UserPoolClient",
    local_name="cmsp-users",
    groups=tuple(sorted(r.value for r in TOKEN_ROLES)),
    custom_attributes=("region_code", "uscc", "org_name"),
)

DECLARATIONS = Declarations(
    tables=(MAIN_TABLE, AUDIT_TABLE),
    queues=(UPLOAD_EVENTS, IMPORT_JOBS, PERMIT_TASKS),
    buckets=(UPLOAD_BUCKET,),
    user_pool=USER_POOL,
    state_machines=(PERMIT_WORKFLOW,),
)


def queue_by_logical_id(logical_id: str) -> Queue:
    return next(q for q in DECLARATIONS.queues if q.logical_id == logical_id)


def queue_by_name(name: str) -> Queue | None:
    return next((q for q in DECLARATIONS.queues if q.name == name), None)
