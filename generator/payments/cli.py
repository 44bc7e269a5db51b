"""`kspay-pages payments serve | reconcile | list | export`: the arguments.

Only argparse here, so that every other command of `kspay-pages` starts without the
service's modules; `commands` runs them.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from .states import DEFAULT_DB, RECV_POST_TIMEOUT as DEFAULT_TIMEOUT, STATES


def add_commands(commands: Any) -> None:
    payments = commands.add_parser("payments", help="the payments service and its store")
    sub = payments.add_subparsers(dest="payments_command", required=True)

    serve = sub.add_parser("serve", help="answer KSPay's result posts at /kspay/result (gunicorn)")
    serve.add_argument("--sites", type=Path, default=Path("sites"), help="folder of merchant files")
    _db(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    serve.add_argument("--recv-post", metavar="URL", default=None,
                       help="recv_post to call (default: KSNET's, for each merchant's window)")
    serve.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                       help="seconds to wait for recv_post")
    serve.add_argument("--pages-url", default="/",
                       help="where _site/ is published, for the result page's links (default /)")
    serve.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="gunicorn worker processes (default: one per core)")
    serve.add_argument("--threads", type=int, default=8, help="threads per worker")
    serve.add_argument("--notify-secret-file", default=None,
                       help="file holding the key that signs notify_url notices "
                            "(default: $KSPAY_NOTIFY_SECRET)")

    reconcile = sub.add_parser("reconcile", help="finish pending and unconfirmed payments")
    _db(reconcile)
    reconcile.add_argument("--sites", type=Path, default=Path("sites"),
                           help="folder of merchant files (for notify_url)")
    reconcile.add_argument("--grace", type=float, default=None,
                           help="leave payments a request began less than this many seconds "
                                "ago (default: twice the recv_post timeout plus 10 s)")
    reconcile.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                           help="seconds to wait for recv_post")
    reconcile.add_argument("--notify-secret-file", default=None,
                           help="file holding the key that signs notify_url notices "
                                "(default: $KSPAY_NOTIFY_SECRET)")

    listing = sub.add_parser("list", help="the stored payments as a table")
    _db(listing)
    listing.add_argument("--state", choices=STATES)
    listing.add_argument("--since", metavar="DATE", help="YYYY-MM-DD (Korean time)")

    export = sub.add_parser("export", help="every payment as CSV (Excel-ready) or JSON")
    _db(export)
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--out", type=Path, default=None, help="file to write (default: stdout)")


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=DEFAULT_DB,
                        help=f"sqlite:///path or postgresql://... (default {DEFAULT_DB})")


def run(args: argparse.Namespace) -> int:
    from .commands import run as run_command

    return run_command(args)
