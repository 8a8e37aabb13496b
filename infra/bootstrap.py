"""Create the declared resources with boto3 (against moto locally, in-process in integration tests).

moto's CloudFormation cannot host this stack (API Gateway, notifications, SQS->Lambda mappings), so the local
environment is created from the same declarations the AWS template is generated from, with plain API calls.
Returns the settings environment the application needs to find those resources.
"""

from __future__ import annotations

import json
from typing import Any

from infra.declarations import DECLARATIONS, Bucket, Queue, StateMachine, Table


def create_table(ddb: Any, t: Table) -> str:
    attrs = {t.pk: t.pk_type, t.sk: t.sk_type}
    for g in t.gsis:
        attrs[g.pk] = g.pk_type
        attrs[g.sk] = g.sk_type
    kwargs: dict[str, Any] = {
        "TableName": t.local_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": v} for k, v in attrs.items()],
        "KeySchema": [{"AttributeName": t.pk, "KeyType": "HASH"}, {"AttributeName": t.sk, "KeyType": "RANGE"}],
    }
    if t.gsis:
        kwargs["GlobalSecondaryIndexes"] = [
            {
                "IndexName": g.name,
                "KeySchema": [{"AttributeName": g.pk, "KeyType": "HASH"}, {"AttributeName": g.sk, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": g.projection},
            }
            for g in t.gsis
        ]
    if t.stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": t.stream}
    ddb.create_table(**kwargs)
    if t.ttl_attribute:
        ddb.update_time_to_live(
            TableName=t.local_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": t.ttl_attribute}
        )
    return t.local_name


def create_queue(sqs: Any, q: Queue, *, visibility_timeout: int | None = None) -> dict[str, str]:
    dlq_url = sqs.create_queue(
        QueueName=q.dlq_name, Attributes={"MessageRetentionPeriod": str(q.dlq_retention_seconds)}
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=q.name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout if visibility_timeout is not None else q.visibility_timeout),
            "MessageRetentionPeriod": str(q.retention_seconds),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": q.max_receive_count}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"url": url, "arn": arn, "dlq_url": dlq_url, "dlq_arn": dlq_arn}


def create_bucket(s3: Any, b: Bucket, queue_arns: dict[str, str], region: str) -> str:
    kwargs: dict[str, Any] = {"Bucket": b.local_name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    # Versioning as on AWS: an accepted upload is pinned to its version even if the POST policy is reused.
    s3.put_bucket_versioning(Bucket=b.local_name, VersioningConfiguration={"Status": "Enabled"})
    if b.browser_post:
        s3.put_bucket_cors(
            Bucket=b.local_name,
            CORSConfiguration={
                "CORSRules": [{"AllowedMethods": ["POST"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"]}]
            },
        )
    if b.notifications:
        s3.put_bucket_notification_configuration(
            Bucket=b.local_name,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": queue_arns[n.queue],
                        "Events": list(n.events),
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": n.prefix}]}},
                    }
                    for n in b.notifications
                ]
            },
        )
    return b.local_name


def state_machine_definition(sm: StateMachine, queue_urls: dict[str, str], partition: str = "aws") -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parent / "statemachines" / sm.definition).read_text("utf-8")
    text = text.replace("${Partition}", partition)
    for logical_id, url in queue_urls.items():
        text = text.replace(f"${{{logical_id.removesuffix('Queue')}QueueUrl}}", url)
    return text


def create_state_machine(sfn: Any, sm: StateMachine, queue_urls: dict[str, str]) -> str:
    return sfn.create_state_machine(
        name=sm.local_name,
        definition=state_machine_definition(sm, queue_urls),
        roleArn="arn:aws:iam::123456789012:role/cmsp-local-stepfunctions",
        type="STANDARD",
    )["stateMachineArn"]


def create_user_pool(idp: Any) -> dict[str, str]:
    up = DECLARATIONS.user_pool
    pool = idp.create_user_pool(
        PoolName=up.local_name,
        Schema=[{"Name": a, "AttributeDataType": "String", "Mutable": True} for a in up.custom_attributes],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="cmsp-web",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["name", "email", "phone_number", *(f"custom:{a}" for a in up.custom_attributes)],
        WriteAttributes=list(up.user_writable),
    )["UserPoolClient"]
    for g in up.groups:
        idp.create_group(GroupName=g, UserPoolId=pool["Id"])
    return {"pool_id": pool["Id"], "client_id": client["ClientId"]}


def bootstrap(
    session: Any, *, region: str, endpoint_url: str | None, queue_visibility_timeout: int | None = None
) -> dict[str, Any]:
    """Create everything; return {"env": settings variables, "queues": {name: urls}, "user_pool": ids}."""
    ddb = session.client("dynamodb")
    sqs = session.client("sqs")
    s3 = session.client("s3")
    idp = session.client("cognito-idp")
    env: dict[str, str] = {}
    for t in DECLARATIONS.tables:
        env[t.env] = create_table(ddb, t)
    queues: dict[str, dict[str, str]] = {}
    queue_arns: dict[str, str] = {}
    for q in DECLARATIONS.queues:
        info = create_queue(sqs, q, visibility_timeout=queue_visibility_timeout)
        queues[q.name] = info
        queue_arns[q.logical_id] = info["arn"]
    for b in DECLARATIONS.buckets:
        env[b.env] = create_bucket(s3, b, queue_arns, region)
    sfn = session.client("stepfunctions")
    queue_urls = {q.logical_id: queues[q.name]["url"] for q in DECLARATIONS.queues}
    for sm in DECLARATIONS.state_machines:
        env[sm.env] = create_state_machine(sfn, sm, queue_urls)
    pool = create_user_pool(idp)
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool['pool_id']}"
    env.update(
        IDENTITY_PROVIDER="cognito",
        COGNITO_USER_POOL_ID=pool["pool_id"],
        COGNITO_CLIENT_ID=pool["client_id"],
        OIDC_ISSUER=issuer,
        OIDC_AUDIENCE=pool["client_id"],
        OIDC_TOKEN_USE="id",  # noqa: S106 - a claim value, not a password
        # moto serves the pool's JWKS under its own endpoint; on AWS the issuer's well-known address is used.
        OIDC_JWKS_URL=f"{endpoint_url.rstrip('/')}/{pool['pool_id']}/.well-known/jwks.json" if endpoint_url else "",
    )
    return {"env": env, "queues": queues, "user_pool": pool}
