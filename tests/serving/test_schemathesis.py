"""Property-based tests of the service against its own OpenAPI schema (schemathesis): bounded
examples per operation, no deadline; every answer must be a non-5xx that matches the schema."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from tests.serving.conftest import KEY, copy_project, project_env, start_server  # noqa: E402

MAX_EXAMPLES = 30  # per operation: the whole run stays well under 2 minutes


@pytest.fixture(scope="module")
def fuzzed_server(trained_project, tmp_path_factory):
    folder = copy_project(trained_project, tmp_path_factory.mktemp("fuzz"))
    server = start_server(project_env(folder, YUQING_RELOAD_INTERVAL_S="0"), folder / "serve.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_schema(fuzzed_server):
    return schemathesis.openapi.from_url(f"{fuzzed_server.url}/docs.json")


def test_no_server_errors_and_answers_match_the_schema(api_schema):
    from hypothesis import given

    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, timeout=30,
                                   checks=[not_a_server_error, response_schema_conformance])

        try:
            check()
        except Exception as error:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:1500]}")
    assert operations >= 10
    assert not failures, "\n\n".join(failures)
