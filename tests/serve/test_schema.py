"""Schemathesis against the server's OpenAPI spec: generated requests (valid and invalid) never
get a server error, and every answer matches the documented status codes and schemas."""

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

import shendu  # noqa: E402
from shendu import nn  # noqa: E402
from shendu.serve import create_app  # noqa: E402


def _app():
    shendu.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    return create_app(model, {"class_names": ["a", "b", "c"]}, max_batch=8)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_spec(case):
    response = case.call_and_validate()
    assert response.status_code < 500
