"""Schemathesis against the OpenAPI schema of a real `rag serve`: no 5xx, no dropped connection, every
response as the schema declares it. FUZZ_EXAMPLES cases per operation (25 by default, about 2-3
minutes); `benchmarks/fuzz_campaign.py` runs the long campaign."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from servers import running_server

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("fuzz")) as server:
        yield schemathesis.openapi.from_url(f"{server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error_or_an_undeclared_answer(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
                           timeout=120)
