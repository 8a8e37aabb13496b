"""Composition root: builds each service once per process, with its adapters, from the settings.

Entry points ask for services here (`get_upload_service()`); tests call `reset()` after changing the environment.
"""

from __future__ import annotations

from functools import cache

from chalicelib.adapters import aws
from chalicelib.settings import get_settings


def person_key_secret() -> bytes:
    """The HMAC key turning ID numbers into person keys: from Secrets Manager on deployed stages."""
    s = get_settings()
    if s.person_key_secret_arn:
        from chalicelib.adapters.secrets import secret_value

        return secret_value(s.person_key_secret_arn).encode()
    return s.person_key_secret.encode()


@cache
def cursor_key() -> bytes:
    """The HMAC key signing pagination cursors."""
    s = get_settings()
    if s.cursor_secret_arn:
        from chalicelib.adapters.secrets import secret_value

        return secret_value(s.cursor_secret_arn).encode()
    return s.cursor_secret.encode()


@cache
def get_audit_log():
    from chalicelib.adapters.dynamo_audit import DynamoAuditLog

    return DynamoAuditLog(get_settings().audit_table)


@cache
def get_token_verifier():
    from chalicelib.adapters.oidc_verifier import OidcTokenVerifier, jwks_url_resolver

    s = get_settings().oidc
    return OidcTokenVerifier(s, jwks_url_resolver(s.jwks_url))


@cache
def get_identity_provider():
    s = get_settings()
    if s.identity_provider == "oidc":
        from chalicelib.adapters.oidc_password_idp import OidcPasswordIdentityProvider

        return OidcPasswordIdentityProvider(s.oidc_token_url, s.oidc.audience, s.oidc_client_secret or None)
    from chalicelib.adapters.cognito_idp import CognitoIdentityProvider

    return CognitoIdentityProvider(s.cognito_client_id, revoke_tokens=s.cognito_revoke_tokens)


@cache
def account_secret() -> bytes:
    """The key sealing second-factor secrets and keying activation-code digests."""
    s = get_settings()
    if s.account_secret_arn:
        from chalicelib.adapters.secrets import secret_value

        return secret_value(s.account_secret_arn).encode()
    return s.account_secret.encode()


@cache
def get_account_store():
    from chalicelib.adapters.dynamo_accounts import DynamoAccountStore

    return DynamoAccountStore(get_settings().main_table, get_audit_log())


@cache
def get_identity_admin():
    s = get_settings()
    if s.identity_provider == "oidc":
        from chalicelib.adapters.oidc_password_idp import BindingsOnlyIdentityAdmin

        return BindingsOnlyIdentityAdmin()
    from chalicelib.adapters.cognito_idp import CognitoIdentityAdmin

    return CognitoIdentityAdmin(s.cognito_user_pool_id)


@cache
def get_secret_box():
    from chalicelib.adapters.secret_box import AesSecretBox

    return AesSecretBox(account_secret())


@cache
def get_auth_service():
    from chalicelib.services.auth import AuthService

    s = get_settings()
    return AuthService(
        get_identity_provider(),
        get_token_verifier(),
        get_audit_log(),
        get_account_store(),
        get_identity_admin(),
        get_secret_box(),
        identity=s.identity_provider,
        cache_seconds=s.auth_cache_seconds,
    )


@cache
def get_account_service():
    from chalicelib.services.accounts import AccountService

    return AccountService(
        get_account_store(),
        get_identity_admin(),
        get_auth_service(),
        get_registry_repository(),
        get_secret_box(),
        identity=get_settings().identity_provider,
    )


@cache
def get_blob_store():
    from chalicelib.adapters.s3_blobs import S3BlobStore

    return S3BlobStore(get_settings().upload_bucket)


@cache
def get_registry_repository():
    from chalicelib.adapters.dynamo_registry import DynamoRegistryRepository

    return DynamoRegistryRepository(get_settings().main_table, get_audit_log())


@cache
def get_import_service():
    from chalicelib.adapters.dynamo_jobs import DynamoImportJobRepository
    from chalicelib.adapters.sqs_queue import SqsJobQueue
    from chalicelib.names import IMPORT_JOBS_QUEUE
    from chalicelib.services.imports import ImportService

    s = get_settings()
    return ImportService(
        DynamoImportJobRepository(s.main_table, get_audit_log()),
        get_registry_repository(),
        get_blob_store(),
        SqsJobQueue(IMPORT_JOBS_QUEUE),
        person_key_secret=person_key_secret(),
        workers=s.intake_workers,
    )


@cache
def get_registry_service():
    from chalicelib.services.registry import RegistryService

    return RegistryService(
        get_registry_repository(), get_blob_store(), audit=get_audit_log(), name_of=_account_name, org_of=_account_org
    )


@cache
def get_review_service():
    from chalicelib.services.review import ReviewService

    def check_evidence(principal, upload_id: str) -> None:
        from chalicelib.domain.errors import InvalidInput

        upload = get_upload_service().get(principal, upload_id)  # 404 if not visible to this official
        if upload.state != "RECEIVED":
            raise InvalidInput("证据附件尚未上传完成或已被拒收", details=[{"field": "evidence_upload_id"}])

    return ReviewService(get_registry_repository(), check_evidence=check_evidence)


@cache
def get_campaign_service():
    from chalicelib.adapters.dynamo_campaigns import DynamoCampaignStore
    from chalicelib.adapters.dynamo_registry import zhejiang_cities
    from chalicelib.services.campaigns import CampaignService

    return CampaignService(
        DynamoCampaignStore(get_settings().main_table, get_audit_log()),
        get_registry_repository(),
        cities=zhejiang_cities,
    )


@cache
def get_credit_store():
    from chalicelib.adapters.dynamo_credit import DynamoCreditStore

    return DynamoCreditStore(get_settings().main_table, get_audit_log())


@cache
def get_credit_service():
    from chalicelib.adapters.dynamo_registry import zhejiang_cities
    from chalicelib.services.credit import CreditService

    return CreditService(get_credit_store(), get_registry_repository(), cities=zhejiang_cities)


@cache
def get_public_service():
    from chalicelib.services.public import PublicService

    return PublicService(
        get_registry_repository(),
        get_credit_store(),
        lambda uscc: get_credit_service().score(uscc),
        person_key_secret=person_key_secret(),
    )


@cache
def get_permit_service():
    from chalicelib.adapters.dynamo_permits import DynamoPermitStore, StepFunctionsWorkflow
    from chalicelib.services.permits import PermitService

    s = get_settings()
    return PermitService(
        DynamoPermitStore(s.main_table, get_audit_log()),
        StepFunctionsWorkflow(s.permit_state_machine_arn),
        get_registry_repository(),
        get_blob_store(),
        verify_base_url=s.public_base_url,
        timeouts=s.permit_timeouts,
        stages=get_stage_store(),
        calendar=get_work_calendar_service().calendar,
        national=get_national_platform() if s.national_api_url else None,
    )


@cache
def get_national_platform():
    from chalicelib.adapters.national_http import HttpNationalPlatform

    s = get_settings()
    return HttpNationalPlatform(
        s.national_api_url,
        api_key=s.national_api_key,
        secret_arn=s.national_api_secret_arn or None,
        timeout=s.national_timeout_seconds,
    )


@cache
def get_stage_store():
    from chalicelib.adapters.dynamo_stages import DynamoStageStore

    return DynamoStageStore(get_settings().main_table, get_audit_log())


@cache
def get_project_view():
    from chalicelib.services.stages import ProjectView

    return ProjectView(get_stage_service(), get_permit_service())


@cache
def get_stage_service():
    from chalicelib.services.stages import StageService

    return StageService(get_stage_store(), get_registry_repository())


@cache
def get_permit_after_issue():
    from chalicelib.services.permits import PermitAfterIssue

    return PermitAfterIssue(get_permit_service())


@cache
def get_permit_documents():
    from chalicelib.services.permits import PermitDocuments

    return PermitDocuments(get_permit_service(), get_licence_service())


@cache
def get_licence_service():
    """The issuing authorities' electronic seals: keys in Secrets Manager; a development stage makes a test CA."""
    from chalicelib.adapters.dynamo_permits import DynamoPermitStore
    from chalicelib.adapters.licence_seal import FileSealKeys, PadesSealer, SecretsSealKeys
    from chalicelib.services.licences import LicenceService

    s = get_settings()
    if s.development and s.licence_seal_keys_dir:
        keys = FileSealKeys(s.licence_seal_keys_dir)
    else:
        keys = SecretsSealKeys(s.licence_seal_keys_prefix, create_missing=s.development)
    return LicenceService(PadesSealer(keys), DynamoPermitStore(s.main_table, get_audit_log()))


@cache
def get_work_calendar_service():
    from chalicelib.adapters.dynamo_work_calendar import DynamoWorkCalendarStore
    from chalicelib.observability import logger, metrics
    from chalicelib.services.work_calendar import WorkCalendarService

    def on_fallback(year: int) -> None:
        # a deadline was counted through a year without the State Council's arrangement: visible, never silent
        metrics().add_metric(name="WorkCalendarFallback", unit="Count", value=1)
        logger().warning("working days counted without a holiday arrangement", extra={"year": year})

    return WorkCalendarService(
        DynamoWorkCalendarStore(get_settings().main_table, get_audit_log()), on_fallback=on_fallback
    )


@cache
def get_template_service():
    from chalicelib.services.templates import TemplateService

    return TemplateService(get_blob_store())


@cache
def get_upload_service():
    from chalicelib.adapters.dynamo_uploads import DynamoUploadRepository
    from chalicelib.services.uploads import UploadService

    s = get_settings()
    return UploadService(
        DynamoUploadRepository(s.main_table, get_audit_log()),
        get_blob_store(),
        ttl_seconds=s.upload_url_ttl_seconds,
        grace_seconds=s.upload_grace_seconds,
        on_received=lambda upload, meta: get_import_service().ensure_job(upload, meta),
    )


def _account_name(username: str) -> str | None:
    """The name of the person behind a login (谁录入、谁负责: people by name)."""
    account = get_account_store().get(username)
    return account.display_name if account else None


def _account_org(username: str) -> str | None:
    """The name of the unit a login belongs to (an enterprise's name, an authority's name)."""
    account = get_account_store().get(username)
    return account.org_name if account else None


@cache
def get_audit_query_service():
    from chalicelib.services.audit_queries import AuditQueryService

    def subject_of(username: str) -> str | None:
        account = get_account_store().get(username)
        return account.principal().subject if account else None

    def enterprise_name_of(uscc: str) -> str | None:
        from chalicelib.domain.records import RecordType

        record = get_registry_repository().get(RecordType.ENTERPRISE, (uscc,))
        return getattr(record, "name", None) if record else None

    return AuditQueryService(get_audit_log(), _account_name, subject_of, _account_org, enterprise_name_of)


@cache
def get_national_sync_service():
    from chalicelib.adapters.dynamo_sync import DynamoSyncStore, RegistryResolver
    from chalicelib.domain.person import person_key
    from chalicelib.services.national_sync import NationalSyncService

    s = get_settings()
    return NationalSyncService(
        DynamoSyncStore(s.main_table, get_audit_log()),
        get_national_platform(),
        RegistryResolver(get_registry_repository(), get_stage_store()),
        person_key=lambda id_type, id_no: person_key(id_type, id_no, person_key_secret()),
    )


@cache
def get_statistics_service():
    from chalicelib.adapters.dynamo_campaigns import DynamoCampaignStore
    from chalicelib.adapters.dynamo_registry import zhejiang_cities
    from chalicelib.adapters.dynamo_stats import DynamoStatsStore
    from chalicelib.services.statistics import StatisticsService

    s = get_settings()
    return StatisticsService(
        DynamoStatsStore(s.main_table),
        DynamoCampaignStore(s.main_table, get_audit_log()),
        zhejiang_cities,
        blobs=get_blob_store(),
        calendar=get_work_calendar_service().calendar,
    )


@cache
def get_data_use_service():
    from chalicelib.adapters.dynamo_permits import DynamoPermitStore
    from chalicelib.domain.person import person_key
    from chalicelib.services.data_use import DataUseService

    s = get_settings()
    return DataUseService(
        get_registry_repository(),
        DynamoPermitStore(s.main_table, get_audit_log()),
        get_stage_store(),
        get_credit_store(),
        get_credit_service(),
        get_audit_log(),
        person_key=lambda id_type, id_no: person_key(id_type, id_no, person_key_secret()),
    )


@cache
def get_qualification_application_service():
    from chalicelib.adapters.dynamo_qualification_applications import DynamoQualificationApplicationStore
    from chalicelib.services.qualification_applications import QualificationApplicationService

    s = get_settings()
    notice = s.qualification_notice_seconds if s.development and s.qualification_notice_seconds else None
    return QualificationApplicationService(
        DynamoQualificationApplicationStore(s.main_table, get_audit_log()),
        get_registry_repository(),
        get_data_use_service(),
        get_credit_store(),
        get_audit_log(),
        calendar=get_work_calendar_service().calendar,
        notice_seconds=notice,
        blobs=get_blob_store(),
    )


@cache
def get_consistency_check():
    from chalicelib.adapters.dynamo_stats import DynamoRecordScan
    from chalicelib.services.consistency import ConsistencyCheck

    return ConsistencyCheck(DynamoRecordScan(get_settings().main_table))


def reset() -> None:
    """Forget every built service, client and setting (after the environment changed)."""
    for fn in (
        get_audit_log,
        get_token_verifier,
        get_identity_provider,
        get_auth_service,
        get_account_service,
        get_account_store,
        get_identity_admin,
        get_secret_box,
        account_secret,
        get_upload_service,
        get_audit_query_service,
        get_blob_store,
        get_registry_repository,
        get_import_service,
        get_registry_service,
        get_template_service,
        get_work_calendar_service,
        get_review_service,
        get_campaign_service,
        get_credit_store,
        get_credit_service,
        get_public_service,
        get_permit_service,
        get_permit_documents,
        get_licence_service,
        get_permit_after_issue,
        get_stage_store,
        get_stage_service,
        get_project_view,
        get_national_sync_service,
        get_national_platform,
        get_statistics_service,
        get_data_use_service,
        get_qualification_application_service,
        get_consistency_check,
        cursor_key,
        get_settings,
    ):
        fn.cache_clear()
    aws.reset_clients()
    from chalicelib.adapters import secrets

    secrets.reset()
