"""Generate the `--merge-template` for `chalice package` from the declarations and the app's event sources.

    python -m infra.template build/merge.json
    chalice package --stage prod --merge-template build/merge.json build/package

Everything partition-aware (`${AWS::Partition}`): the same code deploys to aws and aws-cn. Two identity variants:
- `cognito` (default): the template creates the user pool, its app client and one group per role;
- `oidc` (`python -m infra.template build/merge.json --identity oidc`): no Cognito resource at all (Cognito user
  pools are not offered in the China regions); the province's own OIDC service is configured through parameters.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from chalicelib.domain.accounts import default_policy
from infra.declarations import DECLARATIONS, Bucket, Queue, Table, queue_by_logical_id, queue_by_name


def _sub(s: str) -> dict[str, str]:
    return {"Fn::Sub": s}


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def table_resource(t: Table) -> dict[str, Any]:
    attrs = {t.pk: t.pk_type, t.sk: t.sk_type}
    for g in t.gsis:
        attrs[g.pk] = g.pk_type
        attrs[g.sk] = g.sk_type
    props: dict[str, Any] = {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": v} for k, v in attrs.items()],
        "KeySchema": [{"AttributeName": t.pk, "KeyType": "HASH"}, {"AttributeName": t.sk, "KeyType": "RANGE"}],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": True,
    }
    if t.gsis:
        props["GlobalSecondaryIndexes"] = [
            {
                "IndexName": g.name,
                "KeySchema": [{"AttributeName": g.pk, "KeyType": "HASH"}, {"AttributeName": g.sk, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": g.projection},
            }
            for g in t.gsis
        ]
    if t.ttl_attribute:
        props["TimeToLiveSpecification"] = {"AttributeName": t.ttl_attribute, "Enabled": True}
    if t.stream:
        props["StreamSpecification"] = {"StreamViewType": t.stream}
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": props,
    }


def queue_resources(q: Queue) -> dict[str, Any]:
    return {
        q.dlq_logical_id: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": q.dlq_name,
                "MessageRetentionPeriod": q.dlq_retention_seconds,
                "SqsManagedSseEnabled": True,
            },
        },
        q.logical_id: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": q.name,
                "VisibilityTimeout": q.visibility_timeout,
                "MessageRetentionPeriod": q.retention_seconds,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": _arn(q.dlq_logical_id),
                    "maxReceiveCount": q.max_receive_count,
                },
            },
        },
    }


def bucket_name_sub(b: Bucket) -> str:
    # A fixed, computable name avoids the Bucket <-> QueuePolicy dependency cycle of S3 notifications.
    return f"{b.local_name}-${{AWS::AccountId}}-${{AWS::Region}}"


def bucket_resources(b: Bucket) -> dict[str, Any]:
    name = bucket_name_sub(b)
    props: dict[str, Any] = {
        "BucketName": _sub(name),
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
        "VersioningConfiguration": {"Status": "Enabled"},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    }
    if b.browser_post:
        props["CorsConfiguration"] = {
            "CorsRules": [
                {
                    "AllowedMethods": ["POST"],
                    "AllowedOrigins": [{"Ref": "WebOrigin"}],
                    "AllowedHeaders": ["*"],
                    "MaxAge": 3000,
                }
            ]
        }
    out: dict[str, Any] = {}
    depends = []
    if b.notifications:
        props["NotificationConfiguration"] = {
            "QueueConfigurations": [
                {
                    "Event": ev,
                    "Queue": _arn(n.queue),
                    "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": n.prefix}]}},
                }
                for n in b.notifications
                for ev in n.events
            ]
        }
        for n in b.notifications:
            policy_id = f"{n.queue}S3Policy"
            depends.append(policy_id)
            out[policy_id] = {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": n.queue}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "s3.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": _arn(n.queue),
                                "Condition": {
                                    "ArnLike": {"aws:SourceArn": _sub(f"arn:${{AWS::Partition}}:s3:::{name}")},
                                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                },
                            }
                        ],
                    },
                },
            }
    out[b.logical_id] = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "DependsOn": depends,
        "Properties": props,
    }
    return out


def user_pool_resources() -> dict[str, Any]:
    up = DECLARATIONS.user_pool
    res: dict[str, Any] = {
        up.logical_id: {
            "Type": "AWS::Cognito::UserPool",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "UserPoolName": _sub("cmsp-users-${AWS::StackName}"),
                "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
                "Policies": {
                    "PasswordPolicy": {
                        # the platform checks the full policy (data/account_policy.json) before it sets a password
                        "MinimumLength": default_policy().password_min_length,
                        "RequireLowercase": True,
                        "RequireUppercase": True,
                        "RequireNumbers": True,
                        "RequireSymbols": True,
                    }
                },
                "Schema": [
                    {
                        "Name": a,
                        "AttributeDataType": "String",
                        "Mutable": True,
                        "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "64"},
                    }
                    for a in up.custom_attributes
                ],
                "UserPoolAddOns": {"AdvancedSecurityMode": "OFF"},
            },
        },
        up.client_logical_id: {
            "Type": "AWS::Cognito::UserPoolClient",
            "Properties": {
                "UserPoolId": {"Ref": up.logical_id},
                "ClientName": "cmsp-web",
                "GenerateSecret": False,
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "PreventUserExistenceErrors": "ENABLED",
                "ReadAttributes": ["name", "email", "phone_number", *(f"custom:{a}" for a in up.custom_attributes)],
                "WriteAttributes": list(up.user_writable),
                "IdTokenValidity": 60,
                "AccessTokenValidity": 60,
                # a login lasts at most the account policy's session_hours; the platform session ends it sooner
                "RefreshTokenValidity": default_policy().session_hours,
                "EnableTokenRevocation": True,
                "TokenValidityUnits": {"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "hours"},
            },
        },
    }
    for g in up.groups:
        res[f"UserPoolGroup{''.join(p.title() for p in g.split('_'))}"] = {
            "Type": "AWS::Cognito::UserPoolGroup",
            "Properties": {"GroupName": g, "UserPoolId": {"Ref": up.logical_id}},
        }
    return res


def role_policies(with_cognito: bool) -> list[dict[str, Any]]:
    tables = DECLARATIONS.tables
    index_arns = [_sub(f"${{{t.logical_id}.Arn}}/index/*") for t in tables if t.gsis]
    audit = next(t for t in tables if t.logical_id == "AuditTable")
    main_tables = [t for t in tables if t is not audit]
    queues = [_arn(q.logical_id) for q in DECLARATIONS.queues]
    buckets = [_sub(f"arn:${{AWS::Partition}}:s3:::{bucket_name_sub(b)}/*") for b in DECLARATIONS.buckets]
    statements = [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": _sub("arn:${AWS::Partition}:logs:*:*:*"),
        },
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",
            ],
            "Resource": [_arn(t.logical_id) for t in main_tables] + index_arns,
        },
        {
            # The audit table is append-only for the application: no UpdateItem, no DeleteItem.
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
            "Resource": [_arn(audit.logical_id), _sub(f"${{{audit.logical_id}.Arn}}/index/*")],
        },
        {
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ChangeMessageVisibility",
                "sqs:SendMessage",
            ],
            "Resource": queues,
        },
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:HeadObject"], "Resource": buckets},
        {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["states:StartExecution", "states:DescribeExecution", "states:GetExecutionHistory"],
            "Resource": [{"Ref": sm.logical_id} for sm in DECLARATIONS.state_machines]
            + [
                _sub(
                    f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:${{{sm.logical_id}.Name}}:*"
                )
                for sm in DECLARATIONS.state_machines
            ],
        },
        {"Effect": "Allow", "Action": ["states:SendTaskSuccess", "states:SendTaskFailure"], "Resource": "*"},
        {
            # Change capture for the national sync reads the main table's stream.
            "Effect": "Allow",
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            "Resource": [_sub(f"${{{t.logical_id}.StreamArn}}") for t in main_tables if t.stream],
        },
        {"Effect": "Allow", "Action": ["dynamodb:ListStreams"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [{"Ref": name} for name in ("NationalApiSecret", *APP_SECRETS)],
        },
        {
            # 电子证照: the issuing authorities' seal keys and the trust roots, provisioned by the province's CA under
            # the prefix the functions read (LICENCE_SEAL_KEYS_PREFIX); the functions never create them on AWS.
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [
                _sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:cmsp/licence-seal/*")
            ],
        },
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"},
    ]
    audit_arns = [_arn(audit.logical_id), _sub(f"${{{audit.logical_id}.Arn}}/index/*")]
    statements.append(
        {
            # 审计记录不可删改: an explicit Deny beats any Allow added later, for every role attached to this policy.
            "Effect": "Deny",
            "Action": ["dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteTable"],
            "Resource": audit_arns,
        }
    )
    if with_cognito:
        statements.append(
            {
                # login, refresh and logout; account administration (the platform's account records decide)
                "Effect": "Allow",
                "Action": [
                    "cognito-idp:InitiateAuth",
                    "cognito-idp:RevokeToken",
                    "cognito-idp:AdminCreateUser",
                    "cognito-idp:AdminDeleteUser",
                    "cognito-idp:AdminSetUserPassword",
                    "cognito-idp:AdminUpdateUserAttributes",
                    "cognito-idp:AdminAddUserToGroup",
                    "cognito-idp:AdminRemoveUserFromGroup",
                    "cognito-idp:AdminListGroupsForUser",
                    "cognito-idp:AdminUserGlobalSignOut",
                ],
                "Resource": _arn(DECLARATIONS.user_pool.logical_id),
            }
        )
    return [{"PolicyName": "CmspRuntime", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]


def state_machine_resources(sm) -> dict[str, Any]:
    """The ASL file as DefinitionString; partition and queue URLs substituted by CloudFormation."""
    definition = (Path(__file__).resolve().parent / "statemachines" / sm.definition).read_text("utf-8")
    subs: dict[str, Any] = {"Partition": {"Ref": "AWS::Partition"}}
    for q in sm.queues:
        subs[f"{q.removesuffix('Queue')}QueueUrl"] = {"Ref": q}
    role = f"{sm.logical_id}Role"
    return {
        role: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "states.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "SendTasks",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["sqs:SendMessage"],
                                    "Resource": [_arn(q) for q in sm.queues],
                                },
                            ],
                        },
                    }
                ],
            },
        },
        sm.logical_id: {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineType": "STANDARD",
                "DefinitionString": definition,
                "DefinitionSubstitutions": subs,
                "RoleArn": _arn(role),
            },
        },
    }


def public_rate_limit(limit_per_5_minutes: int = 1000) -> dict[str, Any]:
    """Per-client rate limiting of the public API: an AWS WAF rate-based rule keyed on the source IP, scoped to
    /public/ paths, attached to the API stage (the app also limits per client in-process, see api_public)."""
    return {
        "PublicApiWebAcl": {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {
                "Scope": "REGIONAL",
                "DefaultAction": {"Allow": {}},
                "VisibilityConfig": {
                    "SampledRequestsEnabled": True,
                    "CloudWatchMetricsEnabled": True,
                    "MetricName": "cmsp-public-api",
                },
                "Rules": [
                    {
                        "Name": "public-per-client-rate",
                        "Priority": 0,
                        "Action": {"Block": {"CustomResponse": {"ResponseCode": 429}}},
                        "Statement": {
                            "RateBasedStatement": {
                                "Limit": limit_per_5_minutes,
                                "AggregateKeyType": "IP",
                                "ScopeDownStatement": {
                                    "ByteMatchStatement": {
                                        "FieldToMatch": {"UriPath": {}},
                                        "PositionalConstraint": "CONTAINS",
                                        "SearchString": "/public/",
                                        "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                                    }
                                },
                            }
                        },
                        "VisibilityConfig": {
                            "SampledRequestsEnabled": True,
                            "CloudWatchMetricsEnabled": True,
                            "MetricName": "cmsp-public-rate",
                        },
                    }
                ],
            },
        },
        "PublicApiWebAclAssociation": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "DependsOn": ["RestAPIapiStage"],
            "Properties": {
                "ResourceArn": _sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/api"),
                "WebACLArn": _arn("PublicApiWebAcl"),
            },
        },
    }


def environment(with_cognito: bool) -> dict[str, Any]:
    up = DECLARATIONS.user_pool
    env: dict[str, Any] = {t.env: {"Ref": t.logical_id} for t in DECLARATIONS.tables}
    for sm in DECLARATIONS.state_machines:
        env[sm.env] = {"Ref": sm.logical_id}
    for b in DECLARATIONS.buckets:
        env[b.env] = {"Ref": b.logical_id}
    env["NATIONAL_API_URL"] = {"Ref": "NationalApiUrl"}
    env["NATIONAL_API_SECRET_ARN"] = {"Ref": "NationalApiSecret"}
    for logical_id, (variable, _) in APP_SECRETS.items():
        env[variable] = {"Ref": logical_id}
    env["PUBLIC_BASE_URL"] = {"Ref": "PublicBaseUrl"}
    env["POWERTOOLS_TRACE_DISABLED"] = "false"
    if with_cognito:
        env.update(
            IDENTITY_PROVIDER="cognito",
            COGNITO_USER_POOL_ID={"Ref": up.logical_id},
            COGNITO_CLIENT_ID={"Ref": up.client_logical_id},
            OIDC_ISSUER=_sub(f"https://cognito-idp.${{AWS::Region}}.amazonaws.com/${{{up.logical_id}}}"),
            OIDC_JWKS_URL="",
            OIDC_AUDIENCE={"Ref": up.client_logical_id},
            OIDC_TOKEN_USE="id",  # noqa: S106 - a claim value, not a password
        )
    else:
        env.update(
            IDENTITY_PROVIDER="oidc",
            OIDC_ISSUER={"Ref": "OidcIssuer"},
            OIDC_JWKS_URL={"Ref": "OidcJwksUrl"},
            OIDC_AUDIENCE={"Ref": "OidcAudience"},
            OIDC_TOKEN_URL={"Ref": "OidcTokenUrl"},
            OIDC_TOKEN_USE={"Ref": "OidcTokenUse"},
            OIDC_CLAIM_ROLES={"Ref": "OidcRolesClaim"},
            OIDC_CLAIM_REGION={"Ref": "OidcRegionClaim"},
            OIDC_CLAIM_USCC={"Ref": "OidcUsccClaim"},
            OIDC_ROLE_MAP={"Ref": "OidcRoleMap"},
        )
    return env


# 网络安全法 第二十一条: network logs are kept for no less than six months. Every function's log group is declared
# with its retention (instead of the one Lambda creates on first write, which keeps logs forever or not at all).
LOG_RETENTION_DAYS = 180


def log_groups(app: Any) -> dict[str, Any]:
    from chalice.utils import to_cfn_resource_name

    names = ["APIHandler", *(to_cfn_resource_name(src.name) for src in app.event_sources)]
    return {
        f"{name}LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {"LogGroupName": _sub(f"/aws/lambda/${{{name}}}"), "RetentionInDays": LOG_RETENTION_DAYS},
        }
        for name in names
    }


def sqs_event_overrides(app: Any) -> dict[str, Any]:
    """Per SQS handler: report partial batch failures, and bind the event source to the declared queue."""
    from chalice.app import SQSEventConfig
    from chalice.utils import to_cfn_resource_name

    out: dict[str, Any] = {}
    for src in app.event_sources:
        if not isinstance(src, SQSEventConfig):
            continue
        q = queue_by_name(src.queue)
        if q is None:
            raise ValueError(f"handler {src.name} listens to undeclared queue {src.queue}")
        res = to_cfn_resource_name(src.name)
        out[res] = {
            "Properties": {
                "Events": {
                    f"{res}SqsEventSource": {
                        "Properties": {
                            # Same intrinsic key as chalice's own value (Fn::Sub), so the deep merge replaces it.
                            "Queue": _sub(f"${{{q.logical_id}.Arn}}"),
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        }
                    }
                }
            }
        }
    return out


# Which items invoke each stream handler (Lambda event filtering): everything else never starts the function.
STREAM_KEY_PREFIXES = {
    "on_main_table_change": ("ENT#", "PER#", "PRJ#", "STAGE#", "PERMIT#", "CREDIT#"),
    "on_main_table_change_for_statistics": ("ENT#", "PER#", "PRJ#", "PERMIT#", "CREDIT#", "SYNC#"),
}


def dynamodb_event_overrides(app: Any) -> dict[str, Any]:
    """Per stream handler: the declared table's real StreamArn instead of the decorator's placeholder, partial
    batch responses (a failure resumes from that record, in order), and a filter so that only items sync looks at
    (registry records, stage records, permits, credit records) invoke the function."""
    from chalice.app import DynamoDBEventConfig
    from chalice.utils import to_cfn_resource_name

    out: dict[str, Any] = {}
    for src in app.event_sources:
        if not isinstance(src, DynamoDBEventConfig):
            continue
        name = src.stream_arn.split(":table/", 1)[1].split("/", 1)[0]
        table = next((t for t in DECLARATIONS.tables if t.local_name == name and t.stream), None)
        if table is None:
            raise ValueError(f"handler {src.name} reads the stream of undeclared table {name}")
        prefixes = [{"prefix": p} for p in STREAM_KEY_PREFIXES.get(src.name, ())]
        res = to_cfn_resource_name(src.name)
        out[res] = {
            "Properties": {
                "Events": {
                    f"{res}DynamodbEventSource": {
                        "Properties": {
                            "Stream": {"Fn::GetAtt": [table.logical_id, "StreamArn"]},
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                            **(
                                {
                                    "FilterCriteria": {
                                        "Filters": [
                                            {"Pattern": json.dumps({"dynamodb": {"Keys": {"pk": {"S": prefixes}}}})}
                                        ]
                                    }
                                }
                                if prefixes
                                else {}
                            ),
                        }
                    }
                }
            }
        }
    return out


# Keys the platform generates for itself at deployment (never a literal): logical id -> (variable, description).
APP_SECRETS = {
    "PersonKeySecret": ("PERSON_KEY_SECRET_ARN", "身份证号假名化密钥（HMAC，JSON: key）：更换会使已有人员标识失效"),
    "CursorKeySecret": ("CURSOR_SECRET_ARN", "分页游标签名密钥（HMAC，JSON: key）"),
    "AccountKeySecret": (
        "ACCOUNT_SECRET_ARN",
        "账号密钥：动态口令密钥加密、激活码摘要（JSON: key）：更换会使已绑定的动态口令和未使用的激活码失效",
    ),
}


def app_secret_resources() -> dict[str, Any]:
    return {
        logical_id: {
            "Type": "AWS::SecretsManager::Secret",
            "DeletionPolicy": "Retain",  # losing the person key orphans every person record's key
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": description,
                "GenerateSecretString": {
                    "SecretStringTemplate": "{}",
                    "GenerateStringKey": "key",
                    "PasswordLength": 64,
                    "ExcludePunctuation": True,
                },
            },
        }
        for logical_id, (_, description) in APP_SECRETS.items()
    }


# API Gateway answers some requests itself (no route, bad signature, throttling, WAF ...). Its default bodies are
# English and echo the Authorization header for an unknown route; replace every one with the platform's shape.
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "NOT_FOUND", "请求的地址不存在"),
    "RESOURCE_NOT_FOUND": (404, "NOT_FOUND", "请求的地址不存在"),
    "INVALID_SIGNATURE": (401, "UNAUTHENTICATED", "请先登录"),
    "UNAUTHORIZED": (401, "UNAUTHENTICATED", "请先登录"),
    "ACCESS_DENIED": (403, "FORBIDDEN", "无权执行此操作"),
    "WAF_FILTERED": (403, "FORBIDDEN", "请求被安全策略拦截"),
    "THROTTLED": (429, "TOO_MANY_REQUESTS", "请求过于频繁，请稍后再试"),
    "QUOTA_EXCEEDED": (429, "TOO_MANY_REQUESTS", "请求过于频繁，请稍后再试"),
    "REQUEST_TOO_LARGE": (413, "REQUEST_TOO_LARGE", "请求内容过大"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "UNSUPPORTED_MEDIA_TYPE", "不支持的请求内容类型（应为 application/json）"),
    "BAD_REQUEST_BODY": (400, "INVALID_INPUT", "请求数据格式不正确"),
    "INTEGRATION_TIMEOUT": (504, "TIMEOUT", "处理超时，请稍后重试"),
    "DEFAULT_4XX": (None, "BAD_REQUEST", "请求无法处理"),
    "DEFAULT_5XX": (None, "INTERNAL_ERROR", "系统内部错误，请稍后重试"),
}


def gateway_responses() -> dict[str, Any]:
    out = {}
    for kind, (status, code, message) in GATEWAY_RESPONSES.items():
        body = json.dumps(
            {"code": code, "message": message, "details": {"request_id": "$context.requestId"}}, ensure_ascii=False
        )
        props: dict[str, Any] = {
            "RestApiId": {"Ref": "RestAPI"},
            "ResponseType": kind,
            "ResponseTemplates": {"application/json": body},
            "ResponseParameters": {"gatewayresponse.header.Content-Type": "'application/json; charset=utf-8'"},
        }
        if status is not None:
            props["StatusCode"] = str(status)
        name = "GatewayResponse" + "".join(w.title() for w in kind.split("_"))
        out[name] = {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": props}
    return out


def national_api_resources() -> dict[str, Any]:
    """The national platform's API key: set by operations to the key the ministry issues (docs/runbook)."""
    return {
        "NationalApiSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Description": "全国建筑市场监管公共服务平台数据接口密钥 (JSON: api_key)",
                "GenerateSecretString": {"SecretStringTemplate": "{}", "GenerateStringKey": "api_key"},
            },
        }
    }


# AWS managed CloudFront policies (fixed ids, the same in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def web_resources(with_cdn: bool) -> dict[str, Any]:
    """The web UI: Vite's build uploaded to a private bucket under ui/ (`aws s3 sync web/dist s3://<bucket>/ui/`),
    served by CloudFront together with the API, so the browser talks to one origin: /ui/* from S3 (cached), every
    other path from API Gateway (not cached, all viewer headers but Host). AWS China has no CloudFront origin access
    control: there the bucket is created and the UI is put behind the province's own CDN or gateway."""
    out: dict[str, Any] = {
        "WebBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "VersioningConfiguration": {"Status": "Enabled"},
            },
        }
    }
    if not with_cdn:
        return out
    out["WebOriginAccessControl"] = {
        "Type": "AWS::CloudFront::OriginAccessControl",
        "Properties": {
            "OriginAccessControlConfig": {
                "Name": _sub("${AWS::StackName}-web"),
                "OriginAccessControlOriginType": "s3",
                "SigningBehavior": "always",
                "SigningProtocol": "sigv4",
            }
        },
    }
    out["WebDistribution"] = {
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {
            "DistributionConfig": {
                "Enabled": True,
                "Comment": "浙江省建筑市场监管与诚信信息平台",
                "HttpVersion": "http2",
                "Origins": [
                    {
                        "Id": "web",
                        "DomainName": {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]},
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]},
                    },
                    {
                        "Id": "api",
                        "DomainName": _sub("${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"),
                        "OriginPath": "/api",
                        "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"},
                    },
                ],
                "DefaultCacheBehavior": {
                    "TargetOriginId": "api",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                    "CachePolicyId": CACHING_DISABLED,
                    "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
                },
                "CacheBehaviors": [
                    {
                        "PathPattern": "/ui/*",
                        "TargetOriginId": "web",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "CachePolicyId": CACHING_OPTIMIZED,
                        "Compress": True,
                    }
                ],
            }
        },
    }
    out["WebBucketPolicy"] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": "WebBucket"},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": _sub("${WebBucket.Arn}/ui/*"),
                        "Condition": {
                            "StringEquals": {
                                "AWS:SourceArn": _sub(
                                    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${WebDistribution}"
                                )
                            }
                        },
                    }
                ],
            },
        },
    }
    return out


def _oidc_parameters() -> dict[str, Any]:
    def p(desc: str, default: str = "") -> dict[str, Any]:
        return {"Type": "String", "Default": default, "Description": desc}

    return {
        "OidcIssuer": {"Type": "String", "Description": "OIDC issuer of the province's identity service"},
        "OidcJwksUrl": {"Type": "String", "Description": "JWKS address of that issuer"},
        "OidcAudience": {"Type": "String", "Description": "Client id expected in the aud claim"},
        "OidcTokenUrl": {"Type": "String", "Description": "Token endpoint used by POST /auth/login"},
        "OidcTokenUse": p("Expected token_use claim, empty for none"),
        "OidcRolesClaim": p("Claim carrying role/group names", "groups"),
        "OidcRegionClaim": p("Claim carrying the GB/T 2260 region code", "region_code"),
        "OidcUsccClaim": p("Claim carrying the enterprise USCC", "uscc"),
        "OidcRoleMap": p('JSON map from IdP role names to platform roles, e.g. {"zj-county": "county_official"}'),
    }


def build_merge_template(app: Any, *, identity: str = "cognito") -> dict[str, Any]:
    if identity not in ("cognito", "oidc"):
        raise ValueError(f"identity must be cognito or oidc, not {identity}")
    with_cognito = identity == "cognito"
    resources: dict[str, Any] = {}
    for t in DECLARATIONS.tables:
        resources[t.logical_id] = table_resource(t)
    for q in DECLARATIONS.queues:
        resources.update(queue_resources(q))
    for b in DECLARATIONS.buckets:
        for n in b.notifications:
            queue_by_logical_id(n.queue)  # fail fast on a typo
        resources.update(bucket_resources(b))
    if with_cognito:
        resources.update(user_pool_resources())
    resources["DefaultRole"] = {"Properties": {"Policies": role_policies(with_cognito)}}
    resources.update(public_rate_limit())
    for sm in DECLARATIONS.state_machines:
        resources.update(state_machine_resources(sm))
    resources.update(sqs_event_overrides(app))
    resources.update(dynamodb_event_overrides(app))
    resources.update(national_api_resources())
    resources.update(app_secret_resources())
    resources.update(gateway_responses())
    resources.update(web_resources(with_cdn=with_cognito))
    resources.update(log_groups(app))
    parameters: dict[str, Any] = {
        "WebOrigin": {"Type": "String", "Default": "*", "Description": "Origin of the web UI (CORS)"},
        "NationalApiUrl": {"Type": "String", "Description": "Base URL of the national (MOHURD) data interface"},
        "PublicBaseUrl": {
            "Type": "String",
            "AllowedPattern": "^https://.+",
            "Description": "Public https address printed in certificate QR codes (the web UI's origin)",
        },
    }
    if not with_cognito:
        parameters.update(_oidc_parameters())
    return {
        "Parameters": parameters,
        "Globals": {"Function": {"Environment": {"Variables": environment(with_cognito)}}},
        "Resources": resources,
        "Outputs": {
            **{f"{t.logical_id}Name": {"Value": {"Ref": t.logical_id}} for t in DECLARATIONS.tables},
            **{f"{b.logical_id}Name": {"Value": {"Ref": b.logical_id}} for b in DECLARATIONS.buckets},
            "WebBucketName": {"Value": {"Ref": "WebBucket"}},
            **({"WebUrl": {"Value": _sub("https://${WebDistribution.DomainName}/ui/")}} if with_cognito else {}),
        },
    }


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import argparse

    from app import app

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default="build/merge.json")
    parser.add_argument("--identity", choices=["cognito", "oidc"], default="cognito")
    args = parser.parse_args(argv[1:])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build_merge_template(app, identity=args.identity), indent=2, ensure_ascii=False), "utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
