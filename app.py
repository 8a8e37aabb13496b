"""Zhejiang Construction Market Supervision and Credit Information Platform (浙江省建筑市场监管与诚信信息平台).

This module only assembles: blueprints (routes, event handlers, schedules) and the cross-cutting middleware.
"""

from chalice import Chalice

from chalicelib.entrypoints import (
    api_accounts,
    api_audit,
    api_auth,
    api_campaigns,
    api_credit,
    api_data_use,
    api_imports,
    api_permits,
    api_public,
    api_qualifications,
    api_registry,
    api_review,
    api_stages,
    api_statistics,
    api_sync,
    api_system,
    api_uploads,
    events_imports,
    events_permits,
    events_stats,
    events_sync,
    events_uploads,
    schedules,
)
from chalicelib.entrypoints.middleware import event_middleware, http_middleware
from chalicelib.settings import validate_at_cold_start

validate_at_cold_start()

app = Chalice(app_name="cmsp")

for blueprint in (
    api_system,
    api_accounts,
    api_auth,
    api_uploads,
    api_imports,
    api_registry,
    api_review,
    api_campaigns,
    api_credit,
    api_public,
    api_stages,
    api_permits,
    api_audit,
    api_sync,
    api_statistics,
    api_data_use,
    api_qualifications,
    events_uploads,
    events_imports,
    events_permits,
    events_sync,
    events_stats,
    schedules,
):
    app.register_blueprint(blueprint.bp)

app.register_middleware(http_middleware, "http")
for event_type in ("sqs", "scheduled", "dynamodb"):
    app.register_middleware(event_middleware, event_type)
