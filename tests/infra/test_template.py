"""The AWS template and the local bootstrap come from one declaration; the template passes cfn-lint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.names import UPLOAD_EVENTS_QUEUE
from infra.declarations import DECLARATIONS, queue_by_name
from infra.template import build_merge_template

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _package(tmp_path_factory, identity: str, region: str) -> dict:
    """`chalice package` with the generated merge template, exactly as `make package` does."""
    from app import app

    out = tmp_path_factory.mktemp(f"package-{identity}")
    merge = out / "merge.json"
    merge.write_text(json.dumps(build_merge_template(app, identity=identity)))
    env = {**os.environ, "AWS_DEFAULT_REGION": region}
    env.pop("AWS_ENDPOINT_URL", None)
    subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", "prod", "--merge-template", str(merge), str(out / "pkg")],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return {"dir": out / "pkg", "template": json.loads((out / "pkg" / "sam.json").read_text()), "region": region}


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> dict:
    return _package(tmp_path_factory, "cognito", "us-east-1")


@pytest.fixture(scope="module")
def packaged_cn(tmp_path_factory) -> dict:
    return _package(tmp_path_factory, "oidc", "cn-north-1")


def _cfn_lint(pkg: dict, *regions: str) -> None:
    proc = subprocess.run(
        [str(BIN / "cfn-lint"), "--regions", *regions, "--", str(pkg["dir"] / "sam.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_packaged_template_passes_cfn_lint(packaged):
    _cfn_lint(packaged, "us-east-1", "ap-east-1")


def test_oidc_variant_passes_cfn_lint_in_the_china_regions(packaged_cn):
    _cfn_lint(packaged_cn, "cn-north-1", "cn-northwest-1")
    resources = packaged_cn["template"]["Resources"]
    assert not [k for k, v in resources.items() if v["Type"].startswith("AWS::Cognito::")]
    variables = packaged_cn["template"]["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["IDENTITY_PROVIDER"] == "oidc"
    assert variables["OIDC_ISSUER"] == {"Ref": "OidcIssuer"}


def test_template_is_partition_agnostic(packaged, packaged_cn):
    for pkg in (packaged, packaged_cn):
        raw = json.dumps(pkg["template"])
        assert '"arn:aws:' not in raw
    assert "amazonaws.com.cn" not in raw  # URLSuffix / Partition are resolved by CloudFormation, not hard-coded


def test_every_sqs_handler_reports_partial_failures_on_its_declared_queue(packaged):
    from chalice.app import SQSEventConfig
    from chalice.utils import to_cfn_resource_name

    from app import app

    resources = packaged["template"]["Resources"]
    sqs_sources = [s for s in app.event_sources if isinstance(s, SQSEventConfig)]
    assert sqs_sources, "the app has at least one SQS handler"
    for src in sqs_sources:
        name = to_cfn_resource_name(src.name)
        props = resources[name]["Properties"]["Events"][f"{name}SqsEventSource"]["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        declared = queue_by_name(src.queue)
        assert declared is not None, f"queue {src.queue} of {src.name} is not declared in infra/declarations.py"
        assert props["Queue"] == {"Fn::Sub": f"${{{declared.logical_id}.Arn}}"}


def test_every_function_gets_the_resource_settings(packaged):
    template = packaged["template"]
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for t in DECLARATIONS.tables:
        assert variables[t.env] == {"Ref": t.logical_id}
    for b in DECLARATIONS.buckets:
        assert variables[b.env] == {"Ref": b.logical_id}
    assert {"OIDC_ISSUER", "OIDC_AUDIENCE", "OIDC_JWKS_URL", "IDENTITY_PROVIDER"} <= set(variables)


def test_cognito_variant_declares_the_pool_client_and_one_group_per_role(packaged):
    resources = packaged["template"]["Resources"]
    cognito = {k: v for k, v in resources.items() if v["Type"].startswith("AWS::Cognito::")}
    assert len(cognito) == 2 + len(DECLARATIONS.user_pool.groups)
    groups = {v["Properties"]["GroupName"] for v in cognito.values() if v["Type"] == "AWS::Cognito::UserPoolGroup"}
    assert groups == set(DECLARATIONS.user_pool.groups)


def test_users_cannot_write_their_own_authority_attributes(packaged):
    client = packaged["template"]["Resources"]["UserPoolClient"]["Properties"]
    assert not [a for a in client["WriteAttributes"] if a.startswith("custom:")]


def test_audit_table_is_append_only_for_the_application(packaged):
    statements = packaged["template"]["Resources"]["DefaultRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    audit_arn = {"Fn::GetAtt": ["AuditTable", "Arn"]}
    audit = [s for s in statements if isinstance(s["Resource"], list) and audit_arn in s["Resource"]]
    allows = [s for s in audit if s["Effect"] == "Allow"]
    denies = [s for s in audit if s["Effect"] == "Deny"]
    assert len(allows) == 1 and len(denies) == 1
    assert set(allows[0]["Action"]) == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"}
    # no role may delete or alter an entry: an explicit Deny, which no later Allow can override
    assert {"dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"} <= set(denies[0]["Action"])


def test_every_function_keeps_its_logs_for_at_least_180_days(packaged):
    """网络安全法 第二十一条: network logs kept for no less than six months."""
    resources = packaged["template"]["Resources"]
    functions = [k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"]
    groups = {
        v["Properties"]["LogGroupName"]["Fn::Sub"]: v["Properties"]["RetentionInDays"]
        for v in resources.values()
        if v["Type"] == "AWS::Logs::LogGroup"
    }
    assert functions
    for fn in functions:
        assert groups.get(f"/aws/lambda/${{{fn}}}", 0) >= 180, f"{fn} has no log group kept 180 days"


def test_the_pool_revokes_refresh_tokens_and_bounds_a_login(packaged):
    client = packaged["template"]["Resources"]["UserPoolClient"]["Properties"]
    assert client["EnableTokenRevocation"] is True
    assert client["RefreshTokenValidity"] <= 24 and client["TokenValidityUnits"]["RefreshToken"] == "hours"


def test_local_bootstrap_creates_the_declared_resources():
    """Same declaration, second consumer: the boto3 bootstrap against moto matches the template's resources."""
    import boto3
    from moto import mock_aws

    from infra.bootstrap import bootstrap

    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        out = bootstrap(session, region="us-east-1", endpoint_url=None)
        ddb = session.client("dynamodb")
        for t in DECLARATIONS.tables:
            desc = ddb.describe_table(TableName=out["env"][t.env])["Table"]
            cfn = build_merge_template.__globals__["table_resource"](t)["Properties"]
            assert {g["IndexName"] for g in desc.get("GlobalSecondaryIndexes", [])} == {
                g["IndexName"] for g in cfn.get("GlobalSecondaryIndexes", [])
            }
            assert desc["KeySchema"] == cfn["KeySchema"]
            assert bool(desc.get("StreamSpecification")) == ("StreamSpecification" in cfn)
        sqs = session.client("sqs")
        for q in DECLARATIONS.queues:
            attrs = sqs.get_queue_attributes(QueueUrl=out["queues"][q.name]["url"], AttributeNames=["All"])
            redrive = json.loads(attrs["Attributes"]["RedrivePolicy"])
            assert int(redrive["maxReceiveCount"]) == q.max_receive_count
            assert redrive["deadLetterTargetArn"] == out["queues"][q.name]["dlq_arn"]
        s3 = session.client("s3")
        for b in DECLARATIONS.buckets:
            cfg = s3.get_bucket_notification_configuration(Bucket=out["env"][b.env])
            assert [c["QueueArn"] for c in cfg["QueueConfigurations"]] == [out["queues"][UPLOAD_EVENTS_QUEUE]["arn"]]
        idp = session.client("cognito-idp")
        groups = idp.list_groups(UserPoolId=out["user_pool"]["pool_id"])["Groups"]
        assert sorted(g["GroupName"] for g in groups) == sorted(DECLARATIONS.user_pool.groups)


def test_state_machines_are_valid_jsonpath_asl_with_existing_targets():
    """moto and cfn-lint both accept a Next that points nowhere: check the definitions ourselves."""
    from infra.bootstrap import state_machine_definition

    for sm in DECLARATIONS.state_machines:
        asl = json.loads(state_machine_definition(sm, {q.logical_id: "https://q" for q in DECLARATIONS.queues}))
        assert "QueryLanguage" not in asl or asl["QueryLanguage"] == "JSONPath"
        states = asl["States"]
        assert asl["StartAt"] in states
        for name, st in states.items():
            targets = [st.get("Next"), st.get("Default")]
            targets += [c.get("Next") for c in st.get("Choices", [])] + [c.get("Next") for c in st.get("Catch", [])]
            for t in filter(None, targets):
                assert t in states, f"{sm.definition}: {name} -> {t} does not exist"
            if st["Type"] == "Task":
                assert "waitForTaskToken" in st["Resource"]  # moto cannot invoke Lambda: every task is a queue hand-off
                assert "TimeoutSeconds" in st or "TimeoutSecondsPath" in st, f"{name} could wait forever"
        assert "${" not in json.dumps(asl)


def test_state_machines_in_the_template(packaged):
    resources = packaged["template"]["Resources"]
    for sm in DECLARATIONS.state_machines:
        props = resources[sm.logical_id]["Properties"]
        assert set(props["DefinitionSubstitutions"]) == {"Partition", "PermitTasksQueueUrl"}
        assert '"arn:aws:' not in props["DefinitionString"]


def test_web_ui_is_served_from_s3_behind_cloudfront_with_the_api(packaged, packaged_cn):
    res = packaged["template"]["Resources"]
    dist = res["WebDistribution"]["Properties"]["DistributionConfig"]
    assert {o["Id"] for o in dist["Origins"]} == {"web", "api"}
    [ui] = dist["CacheBehaviors"]
    assert ui["PathPattern"] == "/ui/*" and ui["TargetOriginId"] == "web"
    assert dist["DefaultCacheBehavior"]["TargetOriginId"] == "api"
    assert res["WebBucket"]["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    [stmt] = res["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert stmt["Principal"] == {"Service": "cloudfront.amazonaws.com"} and "AWS:SourceArn" in json.dumps(stmt)
    cn = packaged_cn["template"]["Resources"]
    assert "WebBucket" in cn and "WebDistribution" not in cn


def test_stream_handlers_read_the_real_stream_with_filters(packaged):
    res = packaged["template"]["Resources"]
    for name in ("OnMainTableChange", "OnMainTableChangeForStatistics"):
        [event] = res[name]["Properties"]["Events"].values()
        props = event["Properties"]
        assert props["Stream"] == {"Fn::GetAtt": ["MainTable", "StreamArn"]}
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert "ENT#" in props["FilterCriteria"]["Filters"][0]["Pattern"]


def _resolved_environment(pkg: dict) -> dict[str, str]:
    """The packaged functions' environment with every intrinsic replaced by a placeholder value (what CloudFormation
    would substitute), plus the stage's own variables from .chalice/config.json."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text("utf-8"))
    env = {**config["environment_variables"], **config["stages"]["prod"]["environment_variables"]}
    for name, value in pkg["template"]["Globals"]["Function"]["Environment"]["Variables"].items():
        if isinstance(value, dict):
            value = (
                "https://resolved.example.cn"
                if "URL" in name
                else ("{}" if name.endswith("_MAP") else f"resolved-{name.lower()}")
            )
        env[name] = value
    return env


@pytest.mark.parametrize("variant", ["packaged", "packaged_cn"])
def test_a_deployed_function_gets_every_setting_it_needs(variant, request, monkeypatch):
    """Package the stack, give a function exactly the environment the template gives it, and start the settings:
    nothing may be missing, and no secret may be a literal."""
    from chalicelib.settings import Settings, get_settings, required_groups

    pkg = request.getfixturevalue(variant)
    env = _resolved_environment(pkg)
    assert env["STAGE"] == "prod"
    for literal in ("PERSON_KEY_SECRET", "CURSOR_SECRET", "ACCOUNT_SECRET", "NATIONAL_API_KEY"):
        assert literal not in env, f"{literal} must come from Secrets Manager, not from the template"
    variables = pkg["template"]["Globals"]["Function"]["Environment"]["Variables"]
    for arn in ("PERSON_KEY_SECRET_ARN", "CURSOR_SECRET_ARN", "ACCOUNT_SECRET_ARN", "NATIONAL_API_SECRET_ARN"):
        secret = pkg["template"]["Resources"][variables[arn]["Ref"]]
        assert secret["Type"] == "AWS::SecretsManager::Secret" and "GenerateSecretString" in secret["Properties"]
    for group in required_groups(env["IDENTITY_PROVIDER"]):
        assert any(env.get(n) for n in group), f"the template sets none of {group}"
    # every variable the template sets is one the code reads (no dead or misspelt settings)
    known = {n.upper() for n in Settings.model_fields} | {"POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_LOG_LEVEL"}
    assert set(variables) <= known, set(variables) - known
    for k in list(os.environ):
        if k.upper() in known:
            monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        s = get_settings()  # raises SettingsError if anything is missing
        assert not s.development and s.public_base_url.startswith("https://")
    finally:
        get_settings.cache_clear()


def test_the_api_gateway_answers_in_the_platform_shape(packaged):
    """API Gateway's own answers (no route, bad signature, WAF, throttling) carry the platform's Chinese body and
    never echo the Authorization header."""
    res = packaged["template"]["Resources"]
    responses = {
        v["Properties"]["ResponseType"]: v["Properties"]
        for v in res.values()
        if v["Type"] == "AWS::ApiGateway::GatewayResponse"
    }
    assert {"MISSING_AUTHENTICATION_TOKEN", "INVALID_SIGNATURE", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    for props in responses.values():
        body = json.loads(props["ResponseTemplates"]["application/json"])
        assert set(body) == {"code", "message", "details"}
        assert "$context.error" not in json.dumps(body) and "Authorization" not in json.dumps(body)


def test_settings_are_read_in_one_place():
    """No module under chalicelib/ reads the environment except settings.py (and the tracer switch)."""
    import ast

    offenders = []
    for path in (ROOT / "chalicelib").rglob("*.py"):
        if path.name in ("settings.py", "observability.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
