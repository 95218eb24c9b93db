"""Checks real HTTP exchanges with the gateway against its OpenAPI document."""

from __future__ import annotations

from importlib import resources
from typing import Any

import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse


def load_spec(base_url: str) -> OpenAPI:
    """The gateway's openapi.yml, with its server set to ``base_url``."""
    text = resources.files("kds_device.gateway").joinpath("openapi.yml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    document["servers"] = [{"url": base_url}]
    return OpenAPI.from_dict(document)


class Contract:
    """A ``requests`` response hook: every response is validated against the document, and
    so is every request that the gateway accepted (a refused one may be invalid on purpose)."""

    def __init__(self, base_url: str) -> None:
        self.spec = load_spec(base_url)
        self.checked = 0

    def check(self, response: requests.Response) -> None:
        request = RequestsOpenAPIRequest(response.request)
        if response.status_code < 400:
            self.spec.validate_request(request)
        self.spec.validate_response(request, RequestsOpenAPIResponse(response))
        self.checked += 1

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.check(response)

    def attach(self, session: requests.Session) -> Contract:
        session.hooks["response"].append(self)
        return self
