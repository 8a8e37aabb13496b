"""The browser tests' local runtime: one per test module, with the platform's normal upload lifetime (a browser
takes longer than the e2e suite's one-second ticket between asking for an upload and sending the file)."""

from __future__ import annotations

import pytest

from tests.e2e.test_local_runtime import start_runtime


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    yield from start_runtime(tmp_path_factory.mktemp("runtime"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Mark a test whose body failed, so the page fixture can keep a screenshot of what the page showed."""
    outcome = yield
    if call.when == "call" and outcome.get_result().failed:
        item.failed_call = True
