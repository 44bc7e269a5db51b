"""The payment protocol, one function per step: receive the post, complete it with
action 1, check and store the outcome, confirm it with action 3.

    receive()   the post is stored first (pending, or cancelled), under the unique order
                number and reCommConId: a repeated or concurrent post gets the stored row
                and takes no further step.
    complete()  action 1 with the merchant's own amount and store id; the reply is read,
                checked against the order and stored in one transaction, raw bytes kept.
                Unreachable or unreadable: the payment stays pending.
    confirm()   action 3, only after the outcome is stored, and never for a mismatch.
    reconcile() the same steps again for payments a fault left pending or unconfirmed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import results
from . import recv_post
from .catalog import Catalog, Offer
from .store import (
    ACTION1_FAILED,
    ACTION3_FAILED,
    ACTION3_WITHHELD,
    APPROVED,
    CANCELLED,
    ISSUED,
    MISMATCH,
    PENDING,
    REFUSED,
    NewPayment,
    Payment,
    PaymentStore,
)

# A live request may take two recv_post timeouts; reconcile waits longer than that
# before it takes over a payment that a request began.
RECONCILE_GRACE = 2 * recv_post.DEFAULT_TIMEOUT + 10
# A refreshed result page retries a pending payment only after the first attempt's
# recv_post timeout and this margin: that attempt has given up by then.
RETRY_MARGIN = 5.0


def judge(result: results.PaymentResult, payment: Payment) -> tuple[str, list[str]]:
    """The state a checked action 1 reply puts the payment in, and why a mismatch is one.

    Paid (approved or issued) only when the reply names this order number and the
    amount the merchant's file expects. A refusal stays a refusal whatever it names.
    """
    problems = []
    if result.order_number != payment.order_number:
        problems.append(f"order number {result.order_number!r} is not "
                        f"{payment.order_number!r}")
    if result.approved and result.amount != payment.expected_amount:
        problems.append(f"amount {result.amount} is not the expected "
                        f"{payment.expected_amount}")
    if problems and result.approved:
        return MISMATCH, problems
    if not result.approved:
        return REFUSED, problems
    return (ISSUED if result.method == "virtual_account" else APPROVED), []


def stored_values(result: results.PaymentResult) -> dict[str, Any]:
    """The reply's values as columns of kspay_payments."""
    return {
        "amount": result.amount, "authyn": result.raw.get("authyn", ""),
        "method": result.method, "method_label": result.method_label,
        "result_code": result.result_code, "transaction_number": result.transaction,
        "trade_date": result.date, "trade_time": result.time,
        "approval_number": result.approval_number, "refusal_code": result.refusal_code,
        "message": f"{result.message1} {result.message2}".strip(),
        "issuer": result.issuer_name, "acquirer": result.acquirer_name,
        "bank_code": result.bank.code if result.bank else "",
        "bank_name": result.bank.name_today if result.bank else "",
        "virtual_account": result.virtual_account,
        "installment_months": result.installment_months,
    }


@dataclass
class Payments:
    """The protocol over one store, one catalog and recv_post."""

    store: PaymentStore
    catalog: Catalog
    recv_post_url: str | None = None  # None: KSNET's recv_post for the merchant's window
    timeout: float = recv_post.DEFAULT_TIMEOUT
    retry_margin: float = RETRY_MARGIN

    def recv_post_for(self, offer: Offer) -> str:
        return self.recv_post_url or offer.window.recv_post

    def notify_url(self, site: str) -> str | None:
        config = self.catalog.site(site)
        return config.notify_url if config else None

    # --- the steps ------------------------------------------------------------------

    def receive(self, offer: Offer, order_number: str, conn_id: str, cancelled: bool,
                echo: dict[str, str]) -> Payment:
        """A result post: stored, then (when this post is the first) completed."""
        new = NewPayment(order_number, conn_id or None, offer.site, offer.product,
                         offer.product_name, offer.store_id, self.recv_post_for(offer),
                         offer.amount, echo)
        state = CANCELLED if cancelled else PENDING
        detail = ("reCnclType=1: the customer closed the window" if cancelled
                  else f"reCommConId {conn_id}; expected {offer.amount} won")
        payment, first = self.store.open_payment(new, state, detail, offer.config.notify_url)
        if first:
            return self.complete(payment) if payment.state == PENDING else payment
        return self.retry(payment, conn_id)

    def retry(self, payment: Payment, conn_id: str) -> Payment:
        """A repeated post of a payment a fault left unfinished (the customer refreshed
        "결제 확인 중"): finish it as reconcile would, once the first attempt has had
        its full time. A stored outcome is only shown: it is never completed twice."""
        unfinished = payment.state == PENDING or payment.needs_confirm
        stale_before = time.time() - (self.timeout + self.retry_margin)
        if (not unfinished or payment.conn_id != conn_id
                or not self.store.claim(payment, stale_before)):
            return payment
        return self.complete(payment) if payment.state == PENDING else self.confirm(payment)

    def complete(self, payment: Payment) -> Payment:
        """Action 1 for a pending payment; the outcome stored; then action 3."""
        assert payment.conn_id is not None and payment.state == PENDING
        try:
            result, raw = recv_post.complete(payment.recv_post, payment.conn_id,
                                             payment.store_id, payment.expected_amount,
                                             self.timeout)
            if result.raw.get("authyn") not in ("O", "X"):
                raise recv_post.RecvPostError(
                    f"recv_post's reply has authyn {result.raw.get('authyn')!r}, not O or X", raw)
        except recv_post.RecvPostError as exc:
            return self.store.record_failure(payment.id, ACTION1_FAILED, str(exc), exc.raw)
        state, problems = judge(result, payment)
        detail = f"{state}: authyn {result.raw.get('authyn')}, amt {result.amount}, " \
                 f"ordno {result.order_number}" + (f"; {'; '.join(problems)}" if problems else "")
        values = dict(stored_values(result), problems="; ".join(problems))
        stored = self.store.record_reply(payment.id, state, values, raw, detail,
                                         self.notify_url(payment.site))
        if stored.state == MISMATCH:
            self.store.note(stored.id, ACTION3_WITHHELD,
                            "a mismatch is not processed: no action 3")
            return stored
        return self.confirm(stored) if stored.needs_confirm else stored

    def confirm(self, payment: Payment) -> Payment:
        assert payment.conn_id is not None
        try:
            raw = recv_post.confirm(payment.recv_post, payment.conn_id, payment.store_id,
                                    payment.expected_amount, self.timeout)
        except recv_post.RecvPostError as exc:
            return self.store.record_failure(payment.id, ACTION3_FAILED, str(exc), exc.raw)
        return self.store.record_confirmed(payment.id, f"after {payment.state}", raw)

    # --- reconcile ----------------------------------------------------------------------

    def reconcile(self, grace: float = RECONCILE_GRACE,
                  report: Callable[[Payment, Payment], None] | None = None) -> list[tuple[Payment, Payment]]:
        """Finish every payment a fault left pending or unconfirmed, and say what changed.

        A payment whose last attempt began less than `grace` seconds ago is left to the
        request that may still be completing it. Each payment is claimed first, so two
        reconciles at once never both call recv_post for it.
        """
        done = []
        stale_before = time.time() - grace
        for payment in self.store.unfinished(stale_before):
            if not self.store.claim(payment, stale_before):
                continue
            after = self.complete(payment) if payment.state == PENDING else self.confirm(payment)
            done.append((payment, after))
            if report is not None:
                report(payment, after)
        return done


def describe(before: Payment, after: Payment) -> str:
    """One line of what reconcile did to a payment."""
    was = before.state + ("" if before.state == PENDING or before.confirmed_at else ", unconfirmed")
    if after.state == PENDING:
        now = "still pending (recv_post failed again)"
    elif after.needs_confirm:
        now = f"{after.state}, action 3 failed again"
    elif after.state in (APPROVED, REFUSED, ISSUED):
        now = f"{after.state}, confirmed"
    else:
        now = after.state
    return f"{after.order_number} ({after.site}/{after.product}, {after.expected_amount:,} won): {was} -> {now}"
