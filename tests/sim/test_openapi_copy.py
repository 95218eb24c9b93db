"""The bundled copy of Deliverect's OpenAPI file and the local overrides it needs."""

from __future__ import annotations

import pytest
import yaml
from openapi_core import OpenAPI
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from kds_device.sim.openapi_check import (
    ORDER_STATUS_PATH,
    SPEC_PATH,
    apply_local_overrides,
    load_spec,
)


def published() -> dict:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_the_published_file_does_not_load_without_the_overrides() -> None:
    with pytest.raises(OpenAPIValidationError, match="email"):
        OpenAPI.from_dict(published())


def test_overrides_make_a_valid_spec_that_requires_the_status_body() -> None:
    spec = load_spec()
    OpenAPI.from_dict(spec)  # raises when invalid
    operation = spec["paths"][ORDER_STATUS_PATH]["post"]
    assert operation["requestBody"]["required"] is True
    assert {"url": "/", "description": "any host (local simulator)"} in spec["servers"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["orderId", "status"]  # the published schema itself is kept


def test_overrides_leave_the_input_alone_and_are_idempotent() -> None:
    raw = published()
    once = apply_local_overrides(raw)
    assert "email" in raw["info"]["contact"]
    assert apply_local_overrides(once) == once


def test_the_copy_says_what_was_overridden() -> None:
    head = SPEC_PATH.read_text(encoding="utf-8").split("openapi: 3.1.0")[0]
    assert "LOCAL OVERRIDES" in head
    assert "requestBody.required" in head
