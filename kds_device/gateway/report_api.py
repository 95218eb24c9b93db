"""``GET /api/v1/report``: speed of service for a screen's own location (its token decides
which), as JSON or, with ``format=csv``, as the CSV ``kds-device report --csv`` prints."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, g, jsonify, request

from kds_device.gateway.device_api import Reply, device_auth
from kds_device.gateway.http_util import error
from kds_device.gateway.services import services
from kds_device.gateway.speed_report import ReportError, UnknownZone, speed_report

log = logging.getLogger(__name__)

blueprint = Blueprint("report_api", __name__, url_prefix="/api/v1")

_KNOWN = frozenset({"since", "by", "tz", "format"})
#: What the API takes (the document's patterns); the admin page's callers may say more.
_SINCE = re.compile(r"today|[0-9]{1,11}")
_TZ = re.compile(r"[A-Za-z][A-Za-z0-9_+-]{0,29}(/[A-Za-z0-9_+-]{1,30}){0,2}")


@blueprint.get("/report")
@device_auth
def report() -> Reply:
    args = request.args
    unknown = sorted(set(args) - _KNOWN)
    if unknown:
        return error(400, "bad_request", f"unknown parameter {unknown[0]!r}")
    form = args.get("format", "json")
    if form not in ("json", "csv"):
        return error(400, "bad_request", "format must be json or csv")
    if "since" in args and not _SINCE.fullmatch(args["since"]):
        return error(400, "bad_request", "since must be today or epoch seconds")
    if "tz" in args and not _TZ.fullmatch(args["tz"]):
        return error(400, "bad_request", "tz must be an IANA time zone name (Europe/Brussels)")
    try:
        found = speed_report(
            services().journal.db,
            g.device.location_id,
            since=args.get("since"),
            by=args.get("by", "hour"),
            tz=args.get("tz"),
        )
    except UnknownZone as problem:
        return error(404, "unknown_zone", str(problem))
    except ReportError as problem:
        return error(400, "bad_request", str(problem))
    log.debug("report for device %s: %d tickets", g.device.id, found.total.tickets)
    if form == "csv":
        response = Response(found.to_csv(), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="speed-{found.by}.csv"'
        return response
    return jsonify(found.to_json())
