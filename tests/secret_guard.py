"""Every test of the suite is also a secrets test: a passing test whose captured log lines
contain one of the suite's tokens or secrets (tests/channels.py) fails, naming the secret.

store.redaction masks them in every log record of a process that configured them; this is the
net for any path that would log one anyway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.channels import SIGNING_SECRET, TG_SECRET

SUITE_SECRETS = ("xoxb-test", "123456:TEST-TOKEN", SIGNING_SECRET, TG_SECRET, "mail-secret")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.passed:
        return
    logs = "\n".join(content for name, content in report.sections if name.startswith("Captured log"))
    leaked = [secret for secret in SUITE_SECRETS if secret in logs]
    if leaked:
        report.outcome = "failed"
        report.longrepr = f"secret(s) in this test's captured log: {', '.join(leaked)}\n{logs[-2000:]}"
