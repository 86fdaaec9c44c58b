"""Property-based fuzzing of the whole OpenAPI surface (issue 8 point 6) with schemathesis.

Every operation in /api/v1/openapi.json gets generated requests, valid and invalid, as an admin
and as an agent, straight into the ASGI app (no network). Checks: no 5xx, and every response
conforms to the documented schema. Bounded for CI: a fixed seed (derandomize) and a few
examples per operation.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jiesu.clock import FixedClock
from tests.conftest import Database
from tests.helpers import STREET, auth, register

# A test dependency (with hypothesis); where it is not installed this module skips (-rs).
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error, response_schema_conformance  # noqa: E402

# Revoking "all" would end the very token the fuzzer uses; revocation has its own tests.
SKIP = "/api/v1/auth/revoke"


@pytest.fixture
def logins(client: TestClient) -> list[dict[str, str]]:
    # One token each, used for every example (a fixture parametrised by role cannot reach
    # schemathesis' lazily generated tests).
    return [auth(client, "admin"), auth(client, "agent")]


SETTINGS = settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
CHECKS = [not_a_server_error, response_schema_conformance]


def test_no_server_error_and_responses_match_the_schema(
    client: TestClient, db: Database, clock: FixedClock, logins: list[dict[str, str]]
) -> None:
    # A case to find: fuzzed ids of 1 then reach real rows, not only 404s.
    register(db, clock, street=STREET)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    fuzzed = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == SKIP:
            continue

        @SETTINGS
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            for headers in logins:
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

        fuzz()
        fuzzed += 1
    assert fuzzed > 50  # the whole surface, Open311 included
