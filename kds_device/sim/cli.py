"""``kds-sim``: the Deliverect simulator.

``kds-sim serve`` runs a fake Deliverect API (``/oauth/token``, ``/kds/orderStatus/{id}`` and
the ``/_sim`` control API). ``kds-sim send`` plays Deliverect against a gateway: registers a
location, pushes products, then sends signed orders, duplicates and cancels at a chosen rate.
Secrets may come from the environment (``KDS_SIM_CLIENT_SECRET``, ``KDS_SIM_HMAC_SECRET``) so
they stay out of shell history and ``ps``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import secrets
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kds_device import __version__
from kds_device.logsetup import configure_logging

if TYPE_CHECKING:
    from kds_device.sim.courier import RunningCouriers
    from kds_device.sim.sender import Delivery, WebhookSender


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kds-sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"kds-sim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="a fake Deliverect API on a local port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    serve.add_argument("--client-id", default="kds-sim-client")
    serve.add_argument(
        "--client-secret",
        default=os.environ.get("KDS_SIM_CLIENT_SECRET"),
        help="default: $KDS_SIM_CLIENT_SECRET, else a random one (printed)",
    )
    serve.add_argument("--token-ttl", type=float, default=86400.0, help="token lifetime, s")
    serve.add_argument("--audience", default="https://api.deliverect.com")

    send = commands.add_parser("send", help="play Deliverect against a gateway")
    send.add_argument("--gateway", required=True, help="the gateway's base URL")
    send.add_argument(
        "--secret",
        default=os.environ.get("KDS_SIM_HMAC_SECRET"),
        help="HMAC secret (default: $KDS_SIM_HMAC_SECRET)",
    )
    send.add_argument("--location", required=True, help="Deliverect location id")
    send.add_argument("--account", default="65f0c1a2b3c4d5e6f7a8b9c0")
    send.add_argument("--external-reference", default=None, help="default: kds-<location>")
    send.add_argument("--rate", type=float, default=6.0, help="orders per minute; 0 = no pause")
    send.add_argument("--count", type=int, default=10, help="how many orders")
    send.add_argument("--duplicates", type=float, default=0.1, help="chance an order comes twice")
    send.add_argument("--cancels", type=float, default=0.05, help="chance an order is cancelled")
    send.add_argument("--seed", type=int, default=None, help="repeatable run")
    send.add_argument(
        "--retry-delays",
        default="0.2,0.4,0.8,1.6,3.2",
        help="seconds between retries on connect failure/502/503/504 (Deliverect: 10,20,40,80,160)",
    )
    send.add_argument("--no-products", action="store_true", help="skip the product push")
    send.add_argument(
        "--couriers",
        metavar="DELIVERECT_URL",
        help="send courier statuses for delivery orders (81..89); the simulated Deliverect at"
        " this URL tells when an order is ready (70), after which the courier leaves",
    )
    send.add_argument(
        "--courier-scale", type=float, default=1.0, help="courier minutes x this (0.1: faster)"
    )
    send.add_argument(
        "--courier-wait", type=float, default=600.0, help="seconds to wait for couriers after"
    )

    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    if args.command == "serve":
        return _serve(args)
    return _send(args, parser)


def _serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from kds_device.sim.deliverect_api import create_app

    secret = args.client_secret
    if not secret:
        secret = secrets.token_urlsafe(24)
        print(f"client secret (generated): {secret}", flush=True)
    app = create_app(args.client_id, secret, args.token_ttl, audience=args.audience)
    server = make_server(args.host, args.port, app, threaded=True)
    print(
        f"simulated Deliverect on http://{args.host}:{server.port} "
        f"(client id {args.client_id}); Ctrl-C stops",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _send(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from kds_device.sim.orders import OrderGenerator
    from kds_device.sim.sender import SendError, WebhookSender
    from kds_device.sim.traffic import send_traffic

    if not args.secret:
        parser.error("send needs --secret or $KDS_SIM_HMAC_SECRET")
    try:
        delays = [float(part) for part in args.retry_delays.split(",") if part.strip()]
    except ValueError:
        parser.error("--retry-delays is a comma-separated list of seconds")
    if args.count < 0 or args.rate < 0:
        parser.error("--count and --rate cannot be negative")
    if not (0 <= args.duplicates <= 1 and 0 <= args.cancels <= 1):
        parser.error("--duplicates and --cancels are probabilities between 0 and 1")
    generator = OrderGenerator(seed=args.seed, location=args.location, account=args.account)
    rnd = random.Random(None if args.seed is None else args.seed + 1)
    with WebhookSender(args.gateway, args.secret, retry_delays_s=delays) as sender:
        try:
            urls = sender.register(
                args.account, args.location, args.external_reference or f"kds-{args.location}"
            )
        except SendError as exc:
            print(f"kds-sim: {exc}", file=sys.stderr)
            return 2
        logging.getLogger("kds_device.sim").info("registered: %s", urls)
        failed = 0
        if not args.no_products:
            pushed = sender.push_products(generator.products())
            failed += 0 if pushed.ok else 1
            if not pushed.ok:
                print(f"kds-sim: product push failed: {pushed.detail}", file=sys.stderr)
        flow = _couriers(args, sender) if args.couriers else None
        try:
            report = send_traffic(
                sender,
                generator,
                args.count,
                rate_per_min=args.rate,
                duplicates=args.duplicates,
                cancels=args.cancels,
                rnd=rnd,
                on_delivery=_log_delivery,
                on_order=flow.add if flow is not None else None,
            )
            if flow is not None:
                flow.finish(args.courier_wait)
        finally:
            if flow is not None:
                flow.stop()
    print(json.dumps(report.summary(), indent=2), flush=True)
    return 1 if failed or report.failures else 0


def _couriers(args: argparse.Namespace, sender: WebhookSender) -> RunningCouriers:
    from kds_device.sim.courier import RunningCouriers, ready_at

    if args.courier_scale <= 0:
        raise SystemExit("kds-sim: --courier-scale must be positive")

    def send(body: dict[str, object]) -> None:
        _log_delivery(sender.send_status_update(body))

    return RunningCouriers.start(send, ready_at(args.couriers), scale=args.courier_scale)


def _log_delivery(delivery: Delivery) -> None:
    outcome = "ok" if delivery.ok else "FAILED"
    logging.getLogger("kds_device.sim").info(
        "%s %s %s: %s", delivery.kind, delivery.order_id, outcome, delivery.detail
    )


if __name__ == "__main__":
    raise SystemExit(main())
