"""`kspay-pages payments serve | reconcile | list | export`: what each command does."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from .notify import NotifySecretError
from .store import Payment, PaymentStore, StoreError

EXPORT_FIELDS = (
    "order_number", "state", "paid", "site", "product", "product_name", "store_id",
    "expected_amount", "amount", "method", "method_label", "transaction_number",
    "approval_number", "refusal_code", "message", "issuer", "bank_code", "bank_name",
    "virtual_account", "installment_months", "trade_date", "trade_time", "echo",
    "created_at", "updated_at", "confirmed_at",
)


def shown_url(url: str) -> str:
    """A database URL fit to print: its password masked."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: mask what looks like one
        return re.sub(r"(://[^:/@]*:)[^/@]*@", r"\1***@", url)
    return parsed.render_as_string(hide_password=True) if parsed.password else url


def _fail(message: str) -> int:
    """One line on stderr (a driver's message may have several), exit status 2."""
    print(f"kspay-pages payments: {' '.join(message.split())}", file=sys.stderr, flush=True)
    return 2


def run(args: argparse.Namespace) -> int:
    shown = shown_url(args.db)

    def masked(text: str) -> str:
        return text.replace(args.db, shown) if args.db and shown != args.db else text

    try:
        command = args.payments_command
        missing = _missing_sqlite_file(args.db) if command != "serve" else None
        if missing:
            return _fail(f"{shown}: no such payment store ({missing} does not exist; "
                         f"`kspay-pages payments serve` creates it)")
        store = PaymentStore(args.db)
        store.ensure_schema()
        if command == "serve":
            return _serve(args, store)
        if command == "reconcile":
            return _reconcile(args, store)
        if command == "list":
            return _list(args, store)
        return _export(args, store)
    except (StoreError, NotifySecretError) as exc:
        return _fail(masked(str(exc)))
    except SQLAlchemyError as exc:  # the store failed after it was opened
        return _fail(masked(f"{shown}: the payment store failed: {exc.__class__.__name__}: "
                            f"{getattr(exc, 'orig', None) or exc}"))
    except OSError as exc:
        return _fail(f"{exc.filename or ''}: {exc.strerror or exc}")


def _missing_sqlite_file(url: str) -> str | None:
    """For the commands that read a store: the SQLite file named, when it does not
    exist (a mistyped path would otherwise be created as an empty store, and list,
    export and reconcile would report no payments)."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - PaymentStore reports it
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") \
            or database.startswith("file:"):
        return None
    return None if Path(database).exists() else database


# --- serve ------------------------------------------------------------------------------

def _serve(args: argparse.Namespace, store: PaymentStore) -> int:
    from gunicorn.app.base import BaseApplication

    from .catalog import Catalog
    from .notify import notify_secret
    from .service import RESULT_PATH, build_app

    if not args.sites.is_dir():
        print(f"kspay-pages payments: {args.sites}: no such folder of merchant files", file=sys.stderr)
        return 2
    for line in Catalog(args.sites).problems():
        print(f"warning: {line} (this merchant's payments are refused until it is fixed)",
              file=sys.stderr)
    secret = notify_secret(args.notify_secret_file)
    store.engine.dispose()  # each worker opens its own connections
    options = {"bind": f"{args.host}:{args.port}", "workers": args.workers,
               "worker_class": "gthread", "threads": args.threads,
               "timeout": int(2 * args.timeout + 30), "graceful_timeout": int(args.timeout + 5),
               "accesslog": "-", "errorlog": "-", "proc_name": "kspay-payments"}

    def factory() -> Any:
        return build_app(args.sites, PaymentStore(args.db), args.recv_post, args.timeout,
                         args.pages_url, secret=secret)

    class Service(BaseApplication):  # type: ignore[misc] - gunicorn has no type hints
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return factory()

    print(f"kspay-pages payments: {shown_url(store.url)}, result posts at {RESULT_PATH}, "
          f"recv_post {args.recv_post or 'KSNET (per window)'}", file=sys.stderr, flush=True)
    Service().run()
    return 0


# --- reconcile ------------------------------------------------------------------------

def _reconcile(args: argparse.Namespace, store: PaymentStore) -> int:
    from .catalog import Catalog
    from .flow import RECONCILE_GRACE, Payments, describe
    from .notify import SECRET_ENV, deliver_due, notify_secret, waiting_for_key

    if not args.sites.is_dir():
        # The merchant files name notify_url: without them a payment finished here would
        # never be announced (its notice is queued with its state, or not at all).
        return _fail(f"{args.sites}: no such folder of merchant files (--sites)")
    secret = notify_secret(args.notify_secret_file)
    payments = Payments(store, Catalog(args.sites), None, args.timeout)
    grace = RECONCILE_GRACE if args.grace is None else args.grace
    done = payments.reconcile(grace, report=lambda before, after: print(describe(before, after),
                                                                         flush=True))
    left = [after for _, after in done if after.state == "pending" or after.needs_confirm]
    delivered, failed = deliver_due(store, secret)
    if secret is None and (waiting := waiting_for_key(store)):
        print(f"kspay-pages payments: {waiting} notice(s) not sent: no signing key (set "
              f"{SECRET_ENV} or --notify-secret-file)", file=sys.stderr)
    print(f"reconciled {len(done)} payment(s), {len(done) - len(left)} finished, "
          f"{len(left)} still unfinished; notices: {delivered} delivered, {failed} failed")
    return 1 if left else 0


# --- list and export --------------------------------------------------------------------

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int, right: bool = False) -> str:
    pad = " " * max(width - _width(text), 0)
    return pad + text if right else text + pad


def _won(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}"


def table(rows: list[Payment]) -> str:
    head = ("created (KST)", "state", "order number", "site/product", "expected", "amount",
            "method", "transaction", "confirmed")
    right = {4, 5}
    lines = [(p.created_at[:19].replace("T", " "), p.state, p.order_number,
              f"{p.site}/{p.product}", _won(p.expected_amount), _won(p.amount),
              p.method_label, p.transaction_number,
              "yes" if p.confirmed_at else ("no" if p.needs_confirm else "")) for p in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in lines]) for i, h in enumerate(head)]
    out = ["  ".join(_cell(h, widths[i], i in right) for i, h in enumerate(head)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(_cell(c, widths[i], i in right) for i, c in enumerate(r)).rstrip()
            for r in lines]
    return "\n".join(out)


def _list(args: argparse.Namespace, store: PaymentStore) -> int:
    since = None
    if args.since:
        try:
            from datetime import date

            since = date.fromisoformat(args.since).isoformat()
        except ValueError:
            print(f"kspay-pages payments list: --since {args.since!r}: use YYYY-MM-DD",
                  file=sys.stderr)
            return 2
    rows = store.payments(args.state, since)
    print(table(rows))
    total = sum(p.expected_amount for p in rows if p.paid)
    print(f"{len(rows)} payment(s); paid {sum(p.paid for p in rows)}, {total:,} won")
    return 0


def export_row(payment: Payment) -> dict[str, Any]:
    row = {name: getattr(payment, name) for name in EXPORT_FIELDS if name not in ("paid", "echo")}
    row["paid"] = payment.paid
    row["echo"] = payment.echo_values
    return {name: row[name] for name in EXPORT_FIELDS}


def _export(args: argparse.Namespace, store: PaymentStore) -> int:
    rows = [export_row(p) for p in store.iter_payments()]
    if args.format == "json":
        data = (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    else:
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=EXPORT_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "paid": "yes" if row["paid"] else "no",
                             "echo": json.dumps(row["echo"], ensure_ascii=False)
                             if row["echo"] else ""})
        data = text.getvalue().encode("utf-8-sig")  # the BOM: Excel then reads UTF-8
    if args.out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        tmp = args.out.with_name(f".{args.out.name}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, args.out)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        print(f"wrote {len(rows)} payment(s) to {args.out}", file=sys.stderr)
    return 0


__all__ = ["run", "table", "export_row", "EXPORT_FIELDS"]
