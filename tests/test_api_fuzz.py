"""Property-based fuzzing of the whole API from its own OpenAPI description (schemathesis): no
input a client can send may produce a 500, every error is problem+json, and every response
(without a token: the 401s) is what the description says it is."""
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conformance import violations
from tests.factories import create_case, tiny_network

FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def test_no_input_gives_a_server_error(app, session):
    tiny_network(session)
    create_case(session, code="K1")
    session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:
        fuzz_operation(operation)


def fuzz_operation(operation):
    @FUZZ
    @given(case=operation.as_strategy())
    def fuzz(case):
        response = case.call()
        where = (operation.method.upper(), case.formatted_path, response.status_code)
        assert response.status_code < 500, (where, response.text[:300])
        if response.status_code >= 400 and response.status_code != 304:
            headers = {k.lower(): v for k, v in response.headers.items()}
            assert headers["content-type"][0].startswith("application/problem+json"), where
        assert not violations(case, response), (where, violations(case, response))

    fuzz()
