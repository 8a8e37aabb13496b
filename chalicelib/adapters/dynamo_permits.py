"""Permit applications, person locks and permit-number sequences in the main table.

application   pk = "PERMIT#{id}", sk = "APP"      gsi2: "ORG#{applicant}" / "PERMIT#{applied_on}#{id}"
                                                  gsi3: "BUILDER#{construction uscc}" / "{applied_on}#{id}"
                                                  gsi1 (officials, sparse while waiting on them): "PQ#{county}" / "{updated}#{id}"
project index pk = "STAGE#{prj_num}", sk = "PERMITAPP#{applied_on}#{id}" (written with the application)
person lock   pk = "LOCK#PER#{person}", sk = "LOCK"  (attribute_not_exists: two applications racing, one wins)
                                                  gsi1 (issued, not started): "PSTART#{deadline yyyy-mm}" / "{deadline}#{id}"
sequence      pk = "SEQ#PERMIT#{county}", sk = "{yyyymmdd}"  (ADD n: numbers are never handed out twice)
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import ConditionFailed, DynamoAuditLog
from chalicelib.adapters.dynamo_codec import model_data, put_new, put_versioned, query_all
from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import Principal
from chalicelib.domain.permits import OPEN_WORKFLOW, PermitApplication, PermitState

# The workflow's first state only routes a start or a re-drive (`$.resume`) to where the application stands.
ROUTING_STATES = frozenset({"Route"})


def _item(app: PermitApplication) -> dict[str, Any]:
    data = app.model_dump(mode="json")
    data.update(
        pk=f"PERMIT#{app.application_id}",
        sk="APP",
        entity="permit_application",
        gsi2pk=f"ORG#{app.applicant_uscc}",
        gsi2sk=f"PERMIT#{app.applied_on}#{app.application_id}",
        # the construction enterprise's permits: its achievements (业绩) for qualification reviews
        gsi3pk=f"BUILDER#{app.construction_uscc}",
        gsi3sk=f"{app.applied_on}#{app.application_id}",
    )
    if app.state in OPEN_WORKFLOW:
        # sparse: applications whose workflow is still running (re-driven after a local restart)
        data.update(gsi4pk="PWF#OPEN", gsi4sk=f"{app.updated_at}#{app.application_id}")
    if app.state in (PermitState.UNDER_REVIEW, PermitState.ESCALATED):
        data.update(gsi1pk=f"PQ#{app.region_code}", gsi1sk=f"{app.updated_at}#{app.application_id}")
    elif app.state == PermitState.ISSUED and not app.started_on and app.start_deadline:
        # sparse "not started yet" index, bucketed by the deadline's month: the lapse job queries, never scans
        data.update(gsi1pk=f"PSTART#{app.start_deadline[:7]}", gsi1sk=f"{app.start_deadline}#{app.application_id}")
    return data


class DynamoPermitStore:
    def __init__(self, main_table: str, audit: DynamoAuditLog):
        self.table = main_table
        self.audit = audit

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    def get(self, application_id: str) -> PermitApplication | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"PERMIT#{application_id}"}, "sk": {"S": "APP"}}, ConsistentRead=True
        ).get("Item")
        return PermitApplication.model_validate(model_data(item)) if item else None

    def create(self, app: PermitApplication, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> None:
        try:
            pointer = {
                "pk": f"STAGE#{app.prj_num}",
                "sk": f"PERMITAPP#{app.applied_on}#{app.application_id}",
                "entity": "permit_pointer",
                "application_id": app.application_id,
            }
            self.audit.commit([put_new(self.table, _item(app)), put_new(self.table, pointer)], draft, actor, meta)
        except ConditionFailed:
            raise Conflict("该施工许可申请已存在") from None

    def save(
        self,
        app: PermitApplication,
        expected_version: int,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
        *,
        lock_persons: list[str] | None = None,
    ) -> AuditEntry:
        """Version-checked; `lock_persons` are locked to the project in the same transaction (or nothing is)."""
        writes = [put_versioned(self.table, _item(app), expected_version)]
        if app.state == PermitState.ISSUED and app.verification_id and lock_persons is not None:
            # public lookups: one GetItem for the pointer, one for the application
            for key in (f"PVERIFY#{app.verification_id}", f"PERMITNO#{app.permit_no}"):
                writes.append(
                    put_new(
                        self.table,
                        {"pk": key, "sk": "REF", "entity": "permit_ref", "application_id": app.application_id},
                    )
                )
        for person in lock_persons or []:
            writes.append(
                put_new(
                    self.table,
                    {
                        "pk": f"LOCK#PER#{person}",
                        "sk": "LOCK",
                        "entity": "person_lock",
                        "prj_num": app.prj_num,
                        "application_id": app.application_id,
                    },
                )
            )
        return self.audit.commit(writes, draft, actor, meta)

    def release_locks(
        self,
        app: PermitApplication,
        expected_version: int,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
        persons: list[str],
    ) -> AuditEntry:
        writes = [put_versioned(self.table, _item(app), expected_version)]
        for person in persons:
            writes.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": f"LOCK#PER#{person}"}, "sk": {"S": "LOCK"}},
                        "ConditionExpression": "prj_num = :p",
                        "ExpressionAttributeValues": {":p": {"S": app.prj_num}},
                    }
                }
            )
        return self.audit.commit(writes, draft, actor, meta)

    def resolve(self, kind: str, value: str) -> PermitApplication | None:
        """Public verification: PVERIFY#{id} or PERMITNO#{number} -> the application (2 GetItems)."""
        ref = self._ddb.get_item(TableName=self.table, Key={"pk": {"S": f"{kind}#{value}"}, "sk": {"S": "REF"}}).get(
            "Item"
        )
        return self.get(ref["application_id"]["S"]) if ref else None

    def start_overdue(self, today, lookback_months: int):
        """Issued, not started, deadline before `today`: one Query per month bucket over the lookback window."""
        from chalicelib.domain.clock import add_months

        first = add_months(today.replace(day=1), -lookback_months)
        month = first
        while month <= today:
            items = query_all(
                self._ddb,
                TableName=self.table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk AND gsi1sk < :today",
                ExpressionAttributeValues={":pk": {"S": f"PSTART#{month:%Y-%m}"}, ":today": {"S": today.isoformat()}},
            )
            for item in items:  # projection ALL: no read per item
                yield PermitApplication.model_validate(model_data(item))
            month = add_months(month, 1)

    def by_applicant(self, applicant: str, since: str) -> list[PermitApplication]:
        """The applicant's applications since a date: one Query on gsi2 (projection ALL)."""
        items = query_all(
            self._ddb,
            TableName=self.table,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :pk AND gsi2sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":pk": {"S": f"ORG#{applicant}"},
                ":a": {"S": f"PERMIT#{since}"},
                ":b": {"S": "PERMIT#9999"},
            },
        )
        return [PermitApplication.model_validate(model_data(i)) for i in items]

    def for_project(self, prj_num: str) -> list[PermitApplication]:
        """A project's applications, oldest first: one Query on the project partition, then one read each."""
        pointers = query_all(
            self._ddb,
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": {"S": f"STAGE#{prj_num}"}, ":p": {"S": "PERMITAPP#"}},
        )
        apps = [self.get(i["application_id"]["S"]) for i in pointers]
        return [a for a in apps if a is not None]

    def by_builder(self, uscc: str) -> list[PermitApplication]:
        items = query_all(
            self._ddb,
            TableName=self.table,
            IndexName="gsi3",
            KeyConditionExpression="gsi3pk = :b",
            ExpressionAttributeValues={":b": {"S": f"BUILDER#{uscc}"}},
        )
        return [PermitApplication.model_validate(model_data(i)) for i in items]

    def open_workflows(self) -> list[PermitApplication]:
        """Applications whose workflow has not ended: one Query of a sparse index."""
        items = query_all(
            self._ddb,
            TableName=self.table,
            IndexName="gsi4",
            KeyConditionExpression="gsi4pk = :p",
            ExpressionAttributeValues={":p": {"S": "PWF#OPEN"}},
        )
        return [PermitApplication.model_validate(model_data(i)) for i in items]

    def lock_holder(self, person: str) -> str | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"LOCK#PER#{person}"}, "sk": {"S": "LOCK"}}, ConsistentRead=True
        ).get("Item")
        return item["prj_num"]["S"] if item else None

    def next_sequence(self, county: str, day: str) -> int:
        resp = self._ddb.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"SEQ#PERMIT#{county}"}, "sk": {"S": day}},
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(resp["Attributes"]["n"]["N"])


class StepFunctionsWorkflow:
    """Start executions (deterministic names), answer task tokens, read the history for the project view."""

    def __init__(self, state_machine_arn: str):
        self.arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> str:
        import json

        from botocore.exceptions import ClientError

        try:
            return aws.client("stepfunctions").start_execution(
                stateMachineArn=self.arn, name=name, input=json.dumps(payload)
            )["executionArn"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return self.execution_arn(name)
            raise

    def running(self, name: str) -> bool:
        """Whether an execution of that name exists and is still running."""
        client = aws.client("stepfunctions")
        try:
            return client.describe_execution(executionArn=self.execution_arn(name))["status"] == "RUNNING"
        except client.exceptions.ExecutionDoesNotExist:
            return False

    def execution_arn(self, name: str) -> str:
        return self.arn.replace(":stateMachine:", ":execution:") + f":{name}"

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        import json

        aws.client("stepfunctions").send_task_success(taskToken=token, output=json.dumps(output, ensure_ascii=False))

    def history(self, name: str) -> dict[str, Any]:
        client = aws.client("stepfunctions")
        arn = self.execution_arn(name)
        try:
            desc = client.describe_execution(executionArn=arn)
        except client.exceptions.ExecutionDoesNotExist:
            # an application loaded from the earlier systems (demo data, migrations) never ran the workflow
            return {"status": "NONE", "current_step": None, "steps": [], "transitions": 0}
        events = client.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
        steps = [s for s in entered if s not in ROUTING_STATES]  # plumbing, not a step of the procedure
        return {
            "status": desc["status"],
            "current_step": steps[-1] if steps else None,
            "steps": steps,
            "transitions": len(entered),
        }
