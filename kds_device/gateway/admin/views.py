"""The admin page's views: server-rendered pages under ``/admin`` and the fragments its few
lines of script refresh in place (``data-live``), so an order shows up without a reload.

Reading pages need a login; every change is a POST that also needs the CSRF token.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFProtect

from kds_device.domain.speed import GROUPINGS
from kds_device.gateway import heartbeats
from kds_device.gateway.admin import auth, chart, queries
from kds_device.gateway.broker_accounts import BrokerError
from kds_device.gateway.http_util import error
from kds_device.gateway.services import Services, services
from kds_device.gateway.speed_report import ReportError, speed_report
from kds_device.gateway.stations import current_rules, describe

blueprint = Blueprint(
    "admin",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
csrf = CSRFProtect()

#: The chart's span and bucket.
CHART_HOURS = 6
CHART_BUCKET_MIN = 15
#: Webhooks on the overview's live list.
OVERVIEW_WEBHOOKS = 10
#: Content-Security-Policy: only this gateway's own CSS and script, no inline script, no
#: framing (clickjacking), forms post back here only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@blueprint.before_request
def _guard() -> Any:
    refused = auth.refuse_when_disabled()
    if refused is not None:
        return refused
    auth.ensure_session_key()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # a 400 with the reason (the app answers errors in JSON)
    return None


@blueprint.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.app_template_filter("when")
def _when(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    if time.time() - stamp < 20 * 3600:
        return time.strftime("%H:%M:%S", time.localtime(stamp))
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


@blueprint.app_template_filter("moment")
def _moment(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


@blueprint.app_template_filter("ago")
def _ago(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    seconds = max(0, int(time.time() - stamp))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def _found() -> Services:
    return services()


# ---- pages ------------------------------------------------------------------------------


@blueprint.get("/")
@auth.login_required
def overview() -> str:
    db = _found().journal.db
    now = time.time()
    since = now - CHART_HOURS * 3600
    received = queries.received_since(db, since)
    shown = heartbeats.delays_since(db, since)
    rows = chart.buckets(received, shown, now, CHART_HOURS, CHART_BUCKET_MIN)
    return render_template(
        "overview.html",
        page="overview",
        locations=queries.locations(db),
        webhooks=queries.recent_webhooks(db, OVERVIEW_WEBHOOKS),
        chart_svg=chart.svg(rows, time.strftime("%Z")),
        chart_orders=sum(b.orders for b in rows),
        chart_samples=len(shown),
        chart_hours=CHART_HOURS,
        chart_bucket=CHART_BUCKET_MIN,
    )


@blueprint.get("/screens")
@auth.login_required
def screens() -> str:
    return render_template("screens.html", page="screens", **_screens_context())


def _screens_context() -> dict[str, Any]:
    found = _found()
    heads = {loc.id: loc.last_seq for loc in queries.locations(found.journal.db)}
    return {
        "screens": found.devices.heartbeats(None),
        "heads": heads,
        "now": time.time(),
        "silent_s": found.config.devices.offline_after_s,
    }


@blueprint.post("/screens/<device_id>/<action>")
@auth.login_required
def change_screen(device_id: str, action: str) -> Any:
    if action not in ("revoke", "rotate"):
        abort(404)
    devices = _found().devices
    try:
        done = devices.revoke(device_id) if action == "revoke" else devices.rotate(device_id)
    except BrokerError as problem:
        flash(
            f"{device_id}: refused over HTTP, but the broker was not told ({problem}); try again.",
            "error",
        )
        return redirect(url_for("admin.screens"))
    if not done:
        flash(f"No screen {device_id}.", "error")
    elif action == "revoke":
        flash(f"{device_id} revoked: its token and broker login no longer work.", "ok")
    else:
        flash(f"{device_id} rotated: it fetches new credentials on its next call.", "ok")
    return redirect(url_for("admin.screens"))


@blueprint.get("/webhooks")
@auth.login_required
def webhooks() -> str:
    journal = _found().journal
    return render_template(
        "webhooks.html",
        page="webhooks",
        webhooks=queries.recent_webhooks(journal.db, 30),
        rejected=journal.rejected(50),
        flagged=journal.flagged(50),
    )


@blueprint.get("/events/<location_id>/<int:seq>")
@auth.login_required
def event(location_id: str, seq: int) -> str:
    found = queries.event_data(_found().journal.db, location_id, seq)
    if found is None:
        abort(404)
    return render_template(
        "event.html", page="webhooks", location_id=location_id, seq=seq, event=found
    )


@blueprint.get("/kept/<table>/<int:row_id>")
@auth.login_required
def kept(table: str, row_id: int) -> Any:
    if table not in ("rejected", "flagged"):
        abort(404)
    body = _found().journal.kept_body(table, row_id)
    if body is None:
        abort(404)
    if request.args.get("download"):
        return Response(
            body,
            mimetype="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{table}-{row_id}.json"'},
        )
    return render_template(
        "kept.html",
        page="webhooks",
        table=table,
        row_id=row_id,
        text=body.decode("utf-8", errors="replace"),
        size=len(body),
    )


@blueprint.get("/outbox")
@auth.login_required
def outbox() -> str:
    db = _found().journal.db
    counts = db.read().execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
    return render_template(
        "outbox.html",
        page="outbox",
        counts={str(r[0]): int(r[1]) for r in counts},
        waiting=queries.outbox_rows(db, queries.WAITING),
        failed=queries.outbox_rows(db, queries.FAILED),
        enabled=_found().config.outbox.enabled,
    )


@blueprint.post("/outbox/<int:row_id>/retry")
@auth.login_required
def retry(row_id: int) -> Any:
    found = _found()
    if queries.retry_now(found.journal.db, row_id):
        found.outbox_notifier.notify()
        flash(f"Status {row_id} is due now.", "ok")
    else:
        flash(f"Status {row_id} is not waiting or failed (sent, voided or gone).", "error")
    return redirect(url_for("admin.outbox"))


@blueprint.get("/rules")
@auth.login_required
def rules() -> str:
    journal = _found().journal
    sites = [
        (loc.id, describe(current_rules(journal, loc.id), journal.products(loc.id)))
        for loc in queries.locations(journal.db)
    ]
    return render_template("rules.html", page="rules", sites=sites)


# ---- live fragments ---------------------------------------------------------------------


@blueprint.get("/live/webhooks")
@auth.login_required
def live_webhooks() -> str:
    return render_template(
        "_webhooks.html", webhooks=queries.recent_webhooks(_found().journal.db, OVERVIEW_WEBHOOKS)
    )


@blueprint.get("/live/screens")
@auth.login_required
def live_screens() -> str:
    return render_template("_screens.html", **_screens_context())


# ---- speed of service -------------------------------------------------------------------


def _speed_args() -> dict[str, Any]:
    args = request.args
    return {
        "location_id": args.get("location") or None,
        "since": args.get("since") or "today",
        "by": args.get("by") or "hour",
        "tz": args.get("tz") or None,
    }


@blueprint.get("/speed")
@auth.login_required
def speed() -> Any:
    chosen = _speed_args()
    db = _found().journal.db
    try:
        report = speed_report(
            db, chosen["location_id"], since=chosen["since"], by=chosen["by"], tz=chosen["tz"]
        )
    except ReportError as problem:
        return error(400, "bad_request", str(problem))
    return render_template(
        "speed.html",
        page="speed",
        report=report,
        chosen=chosen,
        groupings=GROUPINGS,
        locations=queries.locations(db),
        csv_args={k: v for k, v in request.args.items() if v},
    )


@blueprint.get("/speed.csv")
@auth.login_required
def speed_csv() -> Any:
    chosen = _speed_args()
    try:
        report = speed_report(
            _found().journal.db,
            chosen["location_id"],
            since=chosen["since"],
            by=chosen["by"],
            tz=chosen["tz"],
        )
    except ReportError as problem:
        return error(400, "bad_request", str(problem))
    name = f"speed-{chosen['location_id'] or 'all'}-{chosen['by']}.csv"
    return Response(
        report.to_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
