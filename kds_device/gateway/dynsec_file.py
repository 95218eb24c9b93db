"""The dynamic security plugin's side of the broker set-up, in the standard library only (so
``deploy/provision_helper.py`` can use it from the checkout with any Python 3.11): the roles, the
client id a screen's user is bound to, and the plugin's JSON file with the gateway's user.

Mosquitto 2.0's dynsec stores PBKDF2-SHA512 password hashes (12-byte salt, 101 iterations) as
base64; a file written here is one it could have written itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
GATEWAY_ROLE = "kds-gateway"
#: What Mosquitto 2.0's dynsec uses for the passwords it hashes itself.
PBKDF2_ITERATIONS = 101
SALT_BYTES = 12


def screen_client_id(device_id: str) -> str:
    """The one client id a screen's broker user may connect with (the device's MQTT feed
    derives the same from its device id)."""
    safe = "".join(ch for ch in device_id if ch.isalnum() or ch in "-_")
    return f"kds-device-{safe}"[:64]


def screen_role(location_id: str) -> str:
    return f"kds-screen-{location_id}"


def events_topic(location_id: str) -> str:
    return f"kds/{location_id}/events"


def _acl(kind: str, topic: str, allow: bool = True) -> dict[str, Any]:
    return {"acltype": kind, "topic": topic, "priority": 0, "allow": allow}


def screen_role_acls(location_id: str) -> list[dict[str, Any]]:
    """A literal subscription (``kds/#`` or ``kds/+/events`` never matches it) and receipt of
    that one topic; everything else falls to the default: denied."""
    topic = events_topic(location_id)
    return [
        _acl("subscribeLiteral", topic),
        _acl("publishClientReceive", topic),
        _acl("unsubscribeLiteral", topic),
    ]


def gateway_role_acls() -> list[dict[str, Any]]:
    """Publish every location's events; administer dynsec (send commands, read answers)."""
    return [
        _acl("publishClientSend", "kds/#"),
        _acl("publishClientSend", f"{CONTROL_TOPIC}/#"),
        _acl("publishClientReceive", f"{CONTROL_TOPIC}/#"),
        _acl("subscribePattern", f"{CONTROL_TOPIC}/#"),
        _acl("unsubscribePattern", f"{CONTROL_TOPIC}/#"),
    ]


def hashed_password(password: str) -> dict[str, Any]:
    """The password fields of a dynsec client in its JSON file (PBKDF2-SHA512)."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS, 64)
    return {
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": PBKDF2_ITERATIONS,
    }


def initial_config(gateway_user: str, gateway_password: str) -> dict[str, Any]:
    """The dynsec file a new broker starts from: the gateway's user and a deny-all default.

    Screens are added by the gateway at enrollment; Mosquitto saves them into this file."""
    return {
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": False,
        },
        "clients": [
            {
                "username": gateway_user,
                "textName": "KDS gateway (publishes events, administers screens)",
                **hashed_password(gateway_password),
                "roles": [{"rolename": GATEWAY_ROLE}],
            }
        ],
        "groups": [],
        "roles": [{"rolename": GATEWAY_ROLE, "acls": gateway_role_acls()}],
    }


def initial_config_json(gateway_user: str, gateway_password: str) -> str:
    return json.dumps(initial_config(gateway_user, gateway_password), indent=2) + "\n"


def password_matches(client: Mapping[str, Any], password: str) -> bool:
    """True when a client entry of the plugin's file has ``password``."""
    try:
        salt = base64.b64decode(client["salt"])
        stored = base64.b64decode(client["password"])
        digest = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), salt, int(client["iterations"]), len(stored)
        )
    except (KeyError, ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, stored)
