"""Accounts, sessions, login-failure windows, activation codes and the account policy in the main table.

  account     pk = "ACCOUNT#{username}", sk = "ACCOUNT"         gsi1: "ACCOUNTS" / "{region}#{role}#{username}"
                                                                gsi2: "ORG#{uscc}" / "ACCOUNT#{username}" (enterprise)
  session     pk = "ACCOUNT#{username}", sk = "SESSION#{sid}"   TTL expires_at_epoch
  failures    pk = "LOGINFAIL#{key}",    sk = "LOGINFAIL"       TTL; while locked gsi1: "LOCKOUTS" / "{until}#{key}"
  code        pk = "ACTCODE#{hmac}",     sk = "ACTCODE"         gsi1: "ACTCODES#{county}" / "{issued_at}#{uscc}"
  current     pk = "ACTCODEFOR#{uscc}",  sk = "ACTCODEFOR"      the enterprise's current code (versioned pointer)
  policy      pk = "CONFIG#ACCOUNTPOLICY", sk = "CONFIG"        versioned

Every authenticated request reads its account and session with one BatchGetItem (strongly consistent).
Account changes, code issues and activations are transactions that carry their audit entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo_audit import ConditionFailed, DynamoAuditLog
from chalicelib.adapters.dynamo_codec import from_item, model_data, put_new, put_versioned, query_all, to_item, to_value
from chalicelib.domain.accounts import Account, AccountPolicy, ActivationCode, CodeState, FailureWindow
from chalicelib.domain.audit import AuditDraft, AuditEntry, RequestMeta
from chalicelib.domain.errors import Conflict
from chalicelib.domain.identity import Principal
from chalicelib.services.ports import Page, SessionRecord

NO_REGION = "000000"


def _account_key(username: str) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{username}"}, "sk": {"S": "ACCOUNT"}}


def _session_key(username: str, sid: str) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{username}"}, "sk": {"S": f"SESSION#{sid}"}}


def _account_item(a: Account) -> dict[str, Any]:
    data = a.model_dump(mode="json")
    data.update(
        pk=f"ACCOUNT#{a.username}",
        sk="ACCOUNT",
        entity="account",
        gsi1pk="ACCOUNTS",
        gsi1sk=f"{a.region_code or NO_REGION}#{a.role.value}#{a.username}",
    )
    if a.uscc:
        data.update(gsi2pk=f"ORG#{a.uscc}", gsi2sk=f"ACCOUNT#{a.username}")
    return data


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def _session_item(s: SessionRecord) -> dict[str, Any]:
    return {
        "pk": f"ACCOUNT#{s.username}",
        "sk": f"SESSION#{s.sid}",
        "entity": "session",
        "username": s.username,
        "sid": s.sid,
        "started_at": s.started_at,
        "last_seen_at": s.last_seen_at,
        "expires_at": s.expires_at,
        "source_ip": s.source_ip,
        "user_agent": s.user_agent,
        "mfa": s.mfa,
        "expires_at_epoch": _epoch(s.expires_at),
    }


def _session(item: dict[str, Any]) -> SessionRecord:
    d = from_item(item)
    return SessionRecord(
        username=d["username"],
        sid=d["sid"],
        started_at=d["started_at"],
        last_seen_at=d["last_seen_at"],
        expires_at=d["expires_at"],
        source_ip=d.get("source_ip", ""),
        user_agent=d.get("user_agent", ""),
        mfa=bool(d.get("mfa")),
    )


def _account(item: dict[str, Any]) -> Account:
    return Account.model_validate(model_data(item))


def _code(item: dict[str, Any]) -> ActivationCode:
    return ActivationCode.model_validate(model_data(item))


class DynamoAccountStore:
    def __init__(self, main_table: str, audit: DynamoAuditLog):
        self.table = main_table
        self.audit = audit

    @property
    def _ddb(self):
        return aws.client("dynamodb")

    # ---- accounts -------------------------------------------------------------------------------------------

    def get(self, username: str) -> Account | None:
        item = self._ddb.get_item(TableName=self.table, Key=_account_key(username), ConsistentRead=True).get("Item")
        return _account(item) if item else None

    def create(self, account: Account, draft: AuditDraft, actor: Principal, meta: RequestMeta) -> AuditEntry:
        try:
            return self.audit.commit([put_new(self.table, _account_item(account))], draft, actor, meta)
        except ConditionFailed:
            raise Conflict(f"用户名“{account.username}”已被使用（注销的账号也不能重复使用用户名）") from None

    def save(
        self, account: Account, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry:
        try:
            return self.audit.commit(
                [put_versioned(self.table, _account_item(account), expected_version)], draft, actor, meta
            )
        except ConditionFailed:
            raise Conflict("账号已被其他管理员修改，请刷新后重试") from None

    def touch_login(self, account: Account, at: str, mfa_step: int | None) -> Account:
        from botocore.exceptions import ClientError

        names = {"#l": "last_login_at"}
        values: dict[str, Any] = {":at": {"S": at}}
        expr = "SET #l = :at"
        cond = "attribute_exists(pk)"
        if mfa_step is not None:
            names["#m"] = "mfa_last_step"
            values[":m"] = {"N": str(mfa_step)}
            expr += ", #m = :m"
            cond += " AND (attribute_not_exists(#m) OR #m < :m)"  # one code, one login (no replay)
        try:
            item = self._ddb.update_item(
                TableName=self.table,
                Key=_account_key(account.username),
                UpdateExpression=expr,
                ConditionExpression=cond,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise Conflict("动态口令已使用过，请等待下一个口令", code="MFA_CODE_REUSED") from None
            raise
        return _account(item)

    def list(
        self,
        *,
        prefix: str,
        uscc: str | None,
        role: str | None,
        state: str | None,
        text: str | None,
        limit: int,
        cursor: dict | None,
    ) -> Page[Account]:
        filters, names, values = [], {}, {}
        if uscc:
            kwargs: dict[str, Any] = {
                "IndexName": "gsi2",
                "KeyConditionExpression": "gsi2pk = :o AND begins_with(gsi2sk, :a)",
                "ExpressionAttributeValues": {":o": {"S": f"ORG#{uscc}"}, ":a": {"S": "ACCOUNT#"}},
            }
        else:
            kwargs = {
                "IndexName": "gsi1",
                "KeyConditionExpression": "gsi1pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "ACCOUNTS"}},
            }
            if prefix:
                kwargs["KeyConditionExpression"] += " AND begins_with(gsi1sk, :r)"
                kwargs["ExpressionAttributeValues"][":r"] = {"S": prefix}
        if role:
            filters.append("#role = :role")
            names["#role"] = "role"
            values[":role"] = {"S": role}
        if state:
            filters.append("#state = :state")
            names["#state"] = "state"
            values[":state"] = {"S": state}
        if text:
            filters.append("(contains(username, :t) OR contains(display_name, :t) OR contains(org_name, :t))")
            values[":t"] = {"S": text}
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
            kwargs["ExpressionAttributeValues"].update(values)
            if names:
                kwargs["ExpressionAttributeNames"] = names
        kwargs.update(TableName=self.table, Limit=limit)
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(items=[_account(i) for i in resp.get("Items", [])], cursor=resp.get("LastEvaluatedKey"))

    # ---- sessions -------------------------------------------------------------------------------------------

    def account_and_session(self, username: str, sid: str) -> tuple[Account | None, SessionRecord | None]:
        keys = [_account_key(username), _session_key(username, sid)]
        resp = self._ddb.batch_get_item(RequestItems={self.table: {"Keys": keys, "ConsistentRead": True}})
        account = session = None
        for item in resp.get("Responses", {}).get(self.table, []):
            if item["sk"]["S"] == "ACCOUNT":
                account = _account(item)
            else:
                session = _session(item)
        if resp.get("UnprocessedKeys"):
            # throttled: read them one by one rather than refusing a valid user
            account = self.get(username)
            item = self._ddb.get_item(TableName=self.table, Key=keys[1], ConsistentRead=True).get("Item")
            session = _session(item) if item else None
        return account, session

    def put_session(self, session: SessionRecord, max_sessions: int) -> list[str]:
        self._ddb.put_item(TableName=self.table, Item=to_item(_session_item(session)))
        current = sorted(self.sessions(session.username), key=lambda s: s.started_at, reverse=True)
        ended = [s.sid for s in current[max_sessions:]]
        for sid in ended:
            self.delete_session(session.username, sid)
        return ended

    def sessions(self, username: str) -> list[SessionRecord]:
        items = query_all(
            self._ddb,
            TableName=self.table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": {"S": f"ACCOUNT#{username}"}, ":s": {"S": "SESSION#"}},
            ConsistentRead=True,
        )
        return [_session(i) for i in items]

    def touch_session(self, username: str, sid: str, at: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self._ddb.update_item(
                TableName=self.table,
                Key=_session_key(username, sid),
                UpdateExpression="SET last_seen_at = :at",
                ConditionExpression="attribute_exists(pk)",  # never re-create an ended session
                ExpressionAttributeValues={":at": {"S": at}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def delete_session(self, username: str, sid: str) -> bool:
        resp = self._ddb.delete_item(TableName=self.table, Key=_session_key(username, sid), ReturnValues="ALL_OLD")
        return bool(resp.get("Attributes"))

    def delete_sessions(self, username: str, *, keep: str | None = None) -> int:
        n = 0
        for s in self.sessions(username):
            if s.sid != keep and self.delete_session(username, s.sid):
                n += 1
        return n

    # ---- login failures -------------------------------------------------------------------------------------

    def failures(self, key: str) -> FailureWindow:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"LOGINFAIL#{key}"}, "sk": {"S": "LOGINFAIL"}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return FailureWindow()
        d = from_item(item)
        return FailureWindow(
            failures=d.get("failures", 0), first_at=d.get("first_at"), locked_until=d.get("locked_until")
        )

    def put_failures(self, key: str, window: FailureWindow, *, expires_at: datetime) -> None:
        data: dict[str, Any] = {
            "pk": f"LOGINFAIL#{key}",
            "sk": "LOGINFAIL",
            "entity": "login_failures",
            "key": key,
            **window.model_dump(),
            "expires_at_epoch": int(expires_at.timestamp()),
        }
        if window.locked_until:
            data.update(gsi1pk="LOCKOUTS", gsi1sk=f"{window.locked_until}#{key}")
        self._ddb.put_item(TableName=self.table, Item=to_item(data))

    def clear_failures(self, key: str) -> None:
        self._ddb.delete_item(TableName=self.table, Key={"pk": {"S": f"LOGINFAIL#{key}"}, "sk": {"S": "LOGINFAIL"}})

    def lockouts(self, now: str) -> list[tuple[str, FailureWindow]]:
        items = query_all(
            self._ddb,
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :l AND gsi1sk > :now",
            ExpressionAttributeValues={":l": {"S": "LOCKOUTS"}, ":now": {"S": now}},
        )
        out = []
        for i in items:
            d = from_item(i)
            out.append(
                (
                    d["key"],
                    FailureWindow(failures=d["failures"], first_at=d["first_at"], locked_until=d["locked_until"]),
                )
            )
        return out

    # ---- activation codes -----------------------------------------------------------------------------------

    def code(self, code_hash: str) -> ActivationCode | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": f"ACTCODE#{code_hash}"}, "sk": {"S": "ACTCODE"}}, ConsistentRead=True
        ).get("Item")
        return _code(item) if item else None

    def _pointer(self, uscc: str) -> dict[str, Any] | None:
        item = self._ddb.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"ACTCODEFOR#{uscc}"}, "sk": {"S": "ACTCODEFOR"}},
            ConsistentRead=True,
        ).get("Item")
        return from_item(item) if item else None

    def current_code(self, uscc: str) -> ActivationCode | None:
        ptr = self._pointer(uscc)
        return self.code(ptr["code_hash"]) if ptr else None

    @staticmethod
    def _code_item(code: ActivationCode) -> dict[str, Any]:
        data = code.model_dump(mode="json")
        data.update(pk=f"ACTCODE#{code.code_hash}", sk="ACTCODE", entity="activation_code")
        data.update(gsi1pk=f"ACTCODES#{code.county}", gsi1sk=f"{code.issued_at}#{code.uscc}")
        return data

    def issue_code(
        self,
        code: ActivationCode,
        previous: ActivationCode | None,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
    ) -> AuditEntry:
        ptr = self._pointer(code.uscc)
        pointer = {
            "pk": f"ACTCODEFOR#{code.uscc}",
            "sk": "ACTCODEFOR",
            "entity": "activation_code_pointer",
            "code_hash": code.code_hash,
            "version": (ptr or {}).get("version", 0) + 1,
        }
        writes = [
            put_new(self.table, self._code_item(code)),
            put_versioned(self.table, pointer, ptr["version"]) if ptr else put_new(self.table, pointer),
        ]
        if previous is not None and previous.state == CodeState.ISSUED:
            writes.append(self._code_state(previous.code_hash, CodeState.ISSUED, CodeState.VOID, None, None))
        try:
            return self.audit.commit(writes, draft, actor, meta)
        except ConditionFailed:
            raise Conflict("该企业的激活码刚被他人发放或使用，请刷新后重试") from None

    def _code_state(
        self, code_hash: str, expected: CodeState, new: CodeState, at: str | None, by: str | None
    ) -> dict[str, Any]:
        expr = "SET #s = :new"
        values: dict[str, Any] = {":new": {"S": new.value}, ":old": {"S": expected.value}}
        if at:
            expr += ", used_at = :at, used_by = :by"
            values.update({":at": {"S": at}, ":by": to_value(by)})
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"pk": {"S": f"ACTCODE#{code_hash}"}, "sk": {"S": "ACTCODE"}},
                "UpdateExpression": expr,
                "ConditionExpression": "#s = :old",
                "ExpressionAttributeNames": {"#s": "state"},
                "ExpressionAttributeValues": values,
            }
        }

    def activate(
        self,
        code: ActivationCode,
        account: Account,
        expected_version: int | None,
        draft: AuditDraft,
        actor: Principal,
        meta: RequestMeta,
    ) -> AuditEntry:
        writes = [
            self._code_state(code.code_hash, CodeState.ISSUED, CodeState.USED, account.updated_at, account.username),
            put_new(self.table, _account_item(account))
            if expected_version is None
            else put_versioned(self.table, _account_item(account), expected_version),
        ]
        try:
            return self.audit.commit(writes, draft, actor, meta)
        except ConditionFailed as exc:
            if (exc.details or {}).get("write_index") == 0:
                raise Conflict("激活码已使用，如需重新开通请联系主管部门重新发放", code="CODE_USED") from None
            raise Conflict(f"用户名“{account.username}”已被使用，请换一个用户名", code="USERNAME_TAKEN") from None

    def codes_for_county(self, county: str, *, limit: int, cursor: dict | None) -> Page[ActivationCode]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :c",
            "ExpressionAttributeValues": {":c": {"S": f"ACTCODES#{county}"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._ddb.query(**kwargs)
        return Page(items=[_code(i) for i in resp.get("Items", [])], cursor=resp.get("LastEvaluatedKey"))

    # ---- policy ---------------------------------------------------------------------------------------------

    def policy(self) -> tuple[AccountPolicy, int] | None:
        item = self._ddb.get_item(
            TableName=self.table, Key={"pk": {"S": "CONFIG#ACCOUNTPOLICY"}, "sk": {"S": "CONFIG"}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        d = model_data(item)
        version = d.pop("version")
        return AccountPolicy.model_validate(d), version

    def save_policy(
        self, policy: AccountPolicy, expected_version: int, draft: AuditDraft, actor: Principal, meta: RequestMeta
    ) -> AuditEntry:
        data = {
            **policy.model_dump(mode="json"),
            "pk": "CONFIG#ACCOUNTPOLICY",
            "sk": "CONFIG",
            "entity": "account_policy",
            "version": expected_version + 1,
        }
        write = (
            put_new(self.table, data) if expected_version == 0 else put_versioned(self.table, data, expected_version)
        )
        try:
            return self.audit.commit([write], draft, actor, meta)
        except ConditionFailed:
            raise Conflict("安全策略已被他人修改，请刷新后重试") from None
