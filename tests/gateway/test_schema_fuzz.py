"""The gateway's whole HTTP surface driven from its OpenAPI document by schemathesis.

A real ``kds-gateway serve`` answers requests generated from ``openapi.yml``, valid ones and
invalid ones, with webhook bodies signed with the HMAC secret and the device API called with
a real enrolled device's token (a requests auth hook that sees the bytes actually sent).
Every answer must be no 5xx and conform to the document: status code, content type, headers
and body schema; invalid data must be refused and valid data accepted.

Schemathesis is driven through its Python API (``as_strategy`` + ``call`` +
``validate_response``) inside hypothesis tests, one per operation and mode, each bounded by
``max_examples``: about 15 s in all on a loaded 2-core machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kds_device.gateway import hmac_auth
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess

pytestmark = pytest.mark.timeout(180)

LOC = "schema-fuzz"
RENEW = "POST /api/v1/credentials"  # trades the device's token for a new one
ORDER_ID = "known/order 1"  # a slash and a space: the path parameter must carry both
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)


def _document() -> dict[str, Any]:
    text = resources.files("kds_device.gateway").joinpath("openapi.yml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    return document


#: Invalid data counts as refused with schemathesis's usual statuses and also with the HTTP
#: server's own refusals of requests too large to read: a body over ``max_body_bytes``
#: (413), a request line over gunicorn's 4094 bytes (414: an ``after`` fuzzed into a long
#: list does that), headers over its limits (431). All are JSON errors like the rest.
REFUSED = [400, 401, 403, 404, 405, 406, 409, 413, 414, 415, 422, 428, 429, 431, "5XX"]
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REFUSED}}}
)
SCHEMA = schemathesis.openapi.from_dict(_document(), config=CONFIG)
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}


class SignedOrToken(requests.auth.AuthBase):
    """Deliverect's signature over the exact bytes sent on /deliverect/..., the device's
    bearer token on /api/v1/... (replacing whatever the generator put there)."""

    def __init__(self, secret: str, token: str) -> None:
        self.secret = secret
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        path = request.path_url
        if path.startswith("/deliverect/"):
            body = request.body or b""
            raw = body.encode() if isinstance(body, str) else body
            if not isinstance(raw, bytes):  # pragma: no cover - schemathesis sends bytes/str
                raise TypeError(f"cannot sign a {type(body).__name__} body")
            request.headers[hmac_auth.HEADER] = hmac_auth.sign(raw, self.secret)
        elif path.startswith("/api/v1/"):
            request.headers["Authorization"] = f"Bearer {self.token}"
        return request


@pytest.fixture(scope="module")
def target(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[GatewayProcess, EnrolledDevice, requests.Session]]:
    """A gateway whose long-polls are capped short (``wait`` is fuzzed up to 30 s), one
    registered location with a few orders, and an enrolled device there."""
    gateway = GatewayProcess(
        tmp_path_factory.mktemp("schema-fuzz"),
        settings={"server": {"long_poll_max_s": 0.05}},
    )
    gateway.start()
    gateway.register(LOC)
    orders = OrderGenerator(seed=12, location=LOC)
    for _ in range(3):
        gateway.send_order(LOC, orders.order())
    gateway.send_order(LOC, orders.order(orderId=ORDER_ID))
    device = gateway.enroll_device(LOC)
    session = requests.Session()
    session.auth = SignedOrToken(gateway.secret, device.token)
    yield gateway, device, session
    session.close()
    gateway.close()


def _strategy(
    label: str, mode: schemathesis.GenerationMode, order_id: str | None
) -> st.SearchStrategy[Any]:
    """Cases for one operation: its location is the registered one; ``order_id`` fixes the
    order a status is for (else ids are generated, nearly always unknown: 404). Invalid
    credentials are left to the HMAC and token tests: here they would crowd out the rest."""
    operation = OPERATIONS[label]
    names = {p.name for p in operation.path_parameters}
    fixed = {"locationId": LOC} if "locationId" in names else {}
    if order_id is not None:
        fixed["orderId"] = order_id
    cases = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)
    return cases.filter(
        lambda case: case.meta is None or not case.meta.is_negative_at(ParameterLocation.HEADER)
    )


def _takes_input(operation: schemathesis.APIOperation) -> bool:
    """Anything but credentials to make invalid (health and credentials take nothing)."""
    return bool(operation.path_parameters or operation.query or operation.body)


#: (operation, mode) pairs: every operation with valid data; invalid data where there is
#: anything to make invalid.
CASES = [
    (label, mode, False)
    for label in sorted(OPERATIONS)
    for mode in schemathesis.GenerationMode
    if mode is schemathesis.GenerationMode.POSITIVE or _takes_input(OPERATIONS[label])
]
#: ... and statuses for an order that exists (forward, backward, repeated keys).
CASES += [
    ("POST /api/v1/orders/{orderId}/status", mode, True) for mode in schemathesis.GenerationMode
]


@pytest.mark.parametrize(
    ("label", "mode", "known_order"),
    CASES,
    ids=[f"{lab}-{m}" + ("-known-order" if known else "") for lab, m, known in CASES],
)
def test_every_operation_answers_as_documented(
    target: tuple[GatewayProcess, EnrolledDevice, requests.Session],
    label: str,
    mode: schemathesis.GenerationMode,
    known_order: bool,
) -> None:
    gateway, _, session = target
    order_id = ORDER_ID if known_order else None
    credentials = session.auth
    calls: list[int] = []

    @EXAMPLES
    @given(case=_strategy(label, mode, order_id))
    def run(case: schemathesis.Case) -> None:
        # Headers made invalid on purpose (a missing token or signature) are sent as made.
        spoilt = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
        session.auth = None if spoilt else credentials
        response = case.call(base_url=gateway.base_url, session=session, timeout=10)
        calls.append(response.status_code)
        if label == RENEW and response.status_code == 200:  # the old token just stopped
            credentials.token = response.json()["token"]
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    finally:
        session.auth = credentials
    assert calls, "hypothesis generated no request"
    assert all(code < 500 for code in calls)


def test_the_gateway_is_still_well_after_the_fuzzing(
    target: tuple[GatewayProcess, EnrolledDevice, requests.Session],
) -> None:
    gateway, _, session = target
    assert gateway.session.get(f"{gateway.base_url}/api/v1/health").json() == {"ok": True}
    page = session.get(f"{gateway.base_url}/api/v1/events", params={"limit": 1000}, timeout=10)
    assert page.status_code == 200 and page.json()["lastSeq"] >= 4, page.text
    assert "Traceback" not in gateway.log_text()
    assert "unexpected error" not in gateway.log_text()
