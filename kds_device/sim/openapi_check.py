"""Validates requests to the simulated Deliverect API against Deliverect's published OpenAPI file.

The file (``deliverect-kds-openapi.yml``, a copy of the protocol folder's) is partly wrong;
``apply_local_overrides`` makes the few changes needed to use it and the file's header comment
lists them. openapi-core and PyYAML are imported lazily: they come with the test extra, and the
simulator still runs (with its own hand-written checks) where they are missing.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("deliverect-kds-openapi.yml")
ORDER_STATUS_PATH = "/kds/orderStatus/{orderId}"


def apply_local_overrides(spec: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of the published spec with the documented local fixes applied."""
    fixed = copy.deepcopy(spec)
    contact = fixed.get("info", {}).get("contact", {})
    if not isinstance(contact.get("email", ""), str):
        del contact["email"]  # 1. scrape artefact, read by YAML as a list
    servers = fixed.setdefault("servers", [])
    if not any(server.get("url") == "/" for server in servers):
        servers.append({"url": "/", "description": "any host (local simulator)"})  # 2.
    operation = fixed["paths"][ORDER_STATUS_PATH]["post"]
    operation["requestBody"]["required"] = True  # 3. the call needs its body
    return fixed


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The published spec as a dict, with the local overrides applied."""
    import yaml  # type: ignore[import-untyped]

    with path.open(encoding="utf-8") as handle:
        return apply_local_overrides(yaml.safe_load(handle))


class RequestValidator:
    """Checks a Flask request against the spec; ``validate`` returns None or a reason."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from openapi_core import Config, OpenAPI
        from openapi_core.contrib.flask import FlaskOpenAPIRequest
        from openapi_core.security.exceptions import SecurityProviderError
        from openapi_core.security.factories import SecurityProviderFactory
        from openapi_core.security.providers import BaseProvider

        class BearerPresent(BaseProvider):
            """openapi-core cannot check oauth2; the simulator checks the token itself, so here
            only a Bearer header is required."""

            def __call__(self, parameters: Any) -> Any:
                value = parameters.header.get("Authorization", "")
                if not value.lower().startswith("bearer "):
                    raise SecurityProviderError("Missing bearer token.")
                return value

        class Providers(SecurityProviderFactory):
            PROVIDERS = {**SecurityProviderFactory.PROVIDERS, "oauth2": BearerPresent}

        config = Config(security_provider_factory=Providers())
        self._openapi = OpenAPI.from_dict(spec, config=config)
        self._wrap = FlaskOpenAPIRequest

    def validate(self, request: Any) -> str | None:
        """None when ``request`` (a Flask request) is valid, else a short human reason."""
        from openapi_core.exceptions import OpenAPIError

        try:
            self._openapi.validate_request(self._wrap(request))
        except OpenAPIError as exc:
            return describe(exc)
        return None


def describe(exc: BaseException) -> str:
    """One line from an openapi-core error: its message plus the JSON-schema errors under it."""
    parts = [str(exc)]
    cause: BaseException | None = exc.__cause__
    while cause is not None:
        errors = getattr(cause, "schema_errors", None)
        if errors:
            parts = [f"{type(exc).__name__}: " + "; ".join(e.message for e in errors)]
            break
        cause = cause.__cause__
    return parts[0][:500]


@functools.lru_cache(maxsize=1)
def default_validator() -> RequestValidator | None:
    """The validator for the bundled spec (built once: loading it takes a moment), or None when
    openapi-core is not installed."""
    try:
        return RequestValidator(load_spec())
    except ImportError:
        return None
