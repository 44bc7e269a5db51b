"""A local stand-in for the KSPay window, for testing a whole payment without a card.

It takes the order page's form post, checks every field with `kspay.form_problems` and
shows in Korean what the real window would refuse; then the tester chooses the outcome
(card approval by ISP or MPI, refusal, virtual account, mobile, or closing the window).
It posts back to sndReply the way KSPay does (reCommConId, reCommType=WH, reHash,
reCnclType and the ECH* fields in EUC-KR; the order number only in sndReply's own
query) and answers recv_post with the one EUC-KR line that `generator.results` reads.

Its recv_post behaves as KSNET's: action 1 with an sndAmount or sndStoreid other than
the window's is refused; action 3 is recorded. The tester can make the first action 1
time out or answer garbage, or the first action 3 time out, to try the pending and
unconfirmed payments that `kspay-pages payments reconcile` finishes.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

from .. import kspay, results
from ..reference import load_reference
from .pages import CSP, csp, render_page

PREFIX = "/__sandbox"
WINDOW_PATH = f"{PREFIX}/KSPayPWeb.jsp"
DECIDE_PATH = f"{PREFIX}/decide"
# What the tester can make recv_post do once (the sandbox window offers these): the
# first action 1 answers late or unreadably (the payment stays pending), or the first
# action 3 answers late (the payment is stored but not confirmed).
FAULTS = {"": "정상 응답", "timeout": "결과 조회(action 1) 응답 지연 (시간 초과, 한 번)",
          "garbage": "결과 조회(action 1) 깨진 응답 (한 번)",
          "confirm_timeout": "결과 확인 통보(action 3) 응답 지연 (시간 초과, 한 번)"}
# The action each fault happens to.
FAULT_ACTIONS = {"timeout": kspay.ACTION_COMPLETE, "garbage": kspay.ACTION_COMPLETE,
                 "confirm_timeout": kspay.ACTION_CONFIRM}
GARBAGE = b"<html><body>502 Bad Gateway</body></html>"
# Rows of the bank table that open no accounts for customers, so no virtual accounts:
# 한국은행 (the central bank), 한국수출입은행 and 신용보증기금. The sandbox does not offer them.
NO_ACCOUNTS = frozenset({"01", "08", "76"})
KST = timezone(timedelta(hours=9))  # KSNET's clock: trddt and trdtm are Korean time
CONFIRM_REPLY = b"OK"
# A window's form post is a few kilobytes; what is longer is refused unread.
MAX_BODY_BYTES = 100_000
# A window left open (a tab closed, a page posted and abandoned) is forgotten after this
# long, and the oldest ones first when there are more than MAX_PENDING.
PENDING_SECONDS = 30 * 60
MAX_PENDING = 1_000

StartResponse = Callable[..., object]


def recv_post_path(window: str = "v1.4") -> str:
    """Where the sandbox answers recv_post for a window: KSNET's path under PREFIX."""
    return PREFIX + urlsplit(kspay.WINDOWS[window].recv_post).path


def recv_post_url(base: str, window: str = "v1.4") -> str:
    return base + recv_post_path(window)


@dataclass
class Transaction:
    fields: dict[str, str]
    euc_kr: bool  # posted in EUC-KR (the mb2 window)
    posted_at: float = field(default_factory=time.monotonic)
    reply: dict[str, str] = field(default_factory=dict)  # recv_post values once decided
    fault: str = ""  # a key of FAULTS: what the first action 1 (or 3) does
    calls: list[tuple[str, str]] = field(default_factory=list)  # (action, sndAmount) received
    faulted: list[tuple[int, str]] = field(default_factory=list)  # (index in calls, fault)


def decode_form(body: bytes, content_type: str = "") -> tuple[dict[str, str], bool]:
    """A posted form's fields; EUC-KR unless the form says sndCharSet=utf-8 (V1.4)."""
    raw = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1"))
    utf8 = raw.get("sndCharSet", "").lower() == "utf-8" or "utf-8" in content_type.lower()
    encoding = "utf-8" if utf8 else kspay.ENCODING
    text = body.decode("ascii", errors="replace")
    fields = dict(parse_qsl(text, keep_blank_values=True, encoding=encoding, errors="replace"))
    return fields, not utf8


class Sandbox:
    """The sandbox window's state: posted forms and decided transactions, in memory."""

    def __init__(self, fault_delay: float = 15.0, pending_seconds: float = PENDING_SECONDS,
                 max_pending: int = MAX_PENDING) -> None:
        self._lock = threading.Lock()
        self.pending_seconds = pending_seconds
        self.max_pending = max_pending
        self._pending: dict[str, Transaction] = {}
        self._decided: dict[str, Transaction] = {}
        self._serial = 0
        # Seconds a "timeout" action 1 or "confirm_timeout" action 3 waits before answering.
        self.fault_delay = fault_delay

    def calls(self, conn_id: str) -> list[tuple[str, str]]:
        """What recv_post received for a payment: (sndActionType, sndAmount), in order."""
        with self._lock:
            txn = self._decided.get(conn_id)
            return list(txn.calls) if txn else []

    def faulted(self, conn_id: str) -> list[tuple[int, str]]:
        """Which of those calls met the payment's fault: (index in `calls`, fault)."""
        with self._lock:
            txn = self._decided.get(conn_id)
            return list(txn.faulted) if txn else []

    def handles(self, path: str) -> bool:
        return path.startswith(PREFIX + "/")

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST":
            return _respond(start_response, "405 Method Not Allowed",
                            b"the sandbox takes form posts", "text/plain; charset=utf-8")
        body = _read_body(environ)
        if isinstance(body, tuple):  # refused: (status, why)
            return _respond(start_response, body[0], body[1].encode(), "text/plain; charset=utf-8")
        if path == WINDOW_PATH:
            fields, euc_kr = decode_form(body, environ.get("CONTENT_TYPE", ""))
            return self._window(fields, euc_kr, start_response)
        if path == DECIDE_PATH:
            choice = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
            return self._decide(choice, start_response)
        if path in {recv_post_path(name) for name in kspay.WINDOWS}:
            request = dict(parse_qsl(body.decode("ascii", errors="replace"), keep_blank_values=True))
            return self._recv_post(request, start_response)
        return _respond(start_response, "404 Not Found", b"no such sandbox page",
                        "text/plain; charset=utf-8")

    # --- the window -------------------------------------------------------------------

    def _window(self, fields: dict[str, str], euc_kr: bool,
                start_response: StartResponse) -> Iterable[bytes]:
        problems = [p.korean() for p in kspay.form_problems(fields)]
        session = secrets.token_hex(8)
        with self._lock:
            self._forget_old_windows(room=1)
            self._pending[session] = Transaction(fields, euc_kr)
        bits = fields.get("sndPaymethod", "")
        methods = [m for m, pos in kspay.PAYMETHOD_POSITIONS.items() if bits[pos - 1:pos] == "1"]
        ref = load_reference()
        showcard = fields.get("sndShowcard", "I,M")
        every = showcard == "C"  # KSNET's V1.4 sample: every card, ISP and MPI
        html = render_page(
            "sandbox_window.html", fields=fields, problems=problems, session=session,
            methods=methods, euc_kr=euc_kr,
            isp_cards=[c for c in ref.cards if c.isp] if every or "I" in showcard.split(",") else [],
            mpi_cards=[c for c in ref.cards if c.mpi and (every or _shown_mpi(showcard, c.code2))],
            banks=[b for b in ref.banks if not b.code_end and b.code not in NO_ACCOUNTS],
            months=[m for m in map(kspay.whole_number, fields.get("sndInstallmenttype", "0")
                                   .split(":")) if m is not None],
            amount=kspay.whole_number(fields.get("sndAmount", "")),
            ech=sorted((k, v) for k, v in fields.items() if k.startswith("ECH")),
            decide_path=DECIDE_PATH, faults=FAULTS)
        status = "200 OK" if not problems else "422 Unprocessable Entity"
        return _respond(start_response, status, html.encode("utf-8"), "text/html; charset=utf-8")

    def _forget_old_windows(self, room: int = 0) -> None:
        """Drop windows posted longer ago than `pending_seconds`, and the oldest until
        `room` more fit under `max_pending` (called with the lock held)."""
        too_old = time.monotonic() - self.pending_seconds
        for session, txn in list(self._pending.items()):  # oldest first: posting order
            if txn.posted_at > too_old and len(self._pending) + room <= self.max_pending:
                break
            del self._pending[session]

    def _decide(self, choice: dict[str, str], start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            self._forget_old_windows()
            txn = self._pending.pop(choice.get("session", ""), None)
        if txn is None:
            return _respond(start_response, "410 Gone", "이미 처리했거나 없는, 또는 시간이 지나 "
                            "닫힌 결제창입니다.".encode(), "text/plain; charset=utf-8")
        reply = txn.fields.get("sndReply", "")
        if (problem := kspay.check("sndReply", reply)) is not None or kspay.insecure_url(reply):
            # The return page would make it a form's action and submit it: only a URL
            # that a merchant's reply_url could be.
            why = problem.korean() if problem else "sndReply(결과페이지)는 https:// 주소여야 합니다."
            return _respond(start_response, "400 Bad Request",
                            f"결과를 돌려보낼 수 없습니다: {why}".encode(), "text/plain; charset=utf-8")
        outcome = choice.get("outcome", "cancel")
        if kspay.form_problems(txn.fields):
            outcome = "cancel"  # the real window refuses such a form: it can only be closed
        fault = choice.get("fault", "")
        conn_id = self.decide(txn, outcome, choice, fault if fault in FAULTS else "")
        html = render_page("sandbox_return.html", action=reply,
                           posted=self.posted_back(conn_id, txn.fields, outcome == "cancel"),
                           cancelled=outcome == "cancel")
        return _respond(start_response, "200 OK", html.encode("utf-8"), "text/html; charset=utf-8",
                        csp(_origin(reply)))

    def decide(self, txn: Transaction, outcome: str, choice: dict[str, str] | None = None,
               fault: str = "") -> str:
        """Settle a posted form as `outcome`; its reCommConId (tests and the bench call this
        directly, as the window's Confirm button does)."""
        if fault not in FAULTS:
            raise ValueError(f"fault {fault!r}: use one of {sorted(FAULTS)}")
        txn.reply = self._reply_values(txn.fields, outcome, choice or {})
        txn.fault = fault
        with self._lock:
            self._serial += 1
            conn_id = f"SBX{datetime.now(KST):%Y%m%d%H%M%S}{self._serial:06d}"
            self._decided[conn_id] = txn
        return conn_id

    @staticmethod
    def posted_back(conn_id: str, fields: dict[str, str], cancelled: bool) -> list[tuple[str, str]]:
        """What KSPay posts to sndReply: no order number, the ECH* fields as sent."""
        posted = [("reCommConId", conn_id), ("reCommType", "WH"),
                  ("reHash", hashlib.sha256(conn_id.encode()).hexdigest()[:32]),
                  ("reCnclType", "1" if cancelled else "0")]
        return posted + sorted((k, v) for k, v in fields.items() if k.startswith("ECH"))

    def _reply_values(self, fields: dict[str, str], outcome: str,
                      choice: dict[str, str]) -> dict[str, str]:
        now = datetime.now(KST)  # not the host's zone
        serial = f"{int(time.time() * 1000) % 10**11:011d}"
        # halbu only for a card: a virtual account or a mobile payment has no installments.
        values = {"trddt": now.strftime("%Y%m%d"), "trdtm": now.strftime("%H%M%S"),
                  "amt": fields.get("sndAmount", ""), "ordno": fields.get("sndOrdernumber", ""),
                  "halbu": ""}
        approval = f"{secrets.randbelow(10**8):08d}"
        if outcome in ("isp", "mpi"):
            code = choice.get(f"{outcome}_issuer", "")
            card = next((c for c in load_reference().cards if c.code2 == code), None)
            result = "I001" if outcome == "isp" else "1001"
            months = choice.get("halbu", "0")
            values.update(authyn="O", trno=result[0] + serial, authno=approval,
                          msg1="정상승인", msg2=card.name_today if card else "", isscd=code,
                          aqucd=code, result=result,
                          halbu=f"{number:02d}" if (number := kspay.whole_number(months)) is not None
                          and number <= kspay.MAX_INSTALLMENT_MONTHS else "00")
        elif outcome == "refuse":
            code = choice.get("refusal_code", "").strip() or "9999"
            values.update(authyn="X", trno="1" + serial, authno=code[:4], msg1="거절",
                          msg2=choice.get("refusal_message", "").strip() or "샌드박스 거절",
                          result="1001")
        elif outcome == "virtual_account":
            bank = choice.get("bank", "")
            account = f"{bank}{secrets.randbelow(10**12):012d}"
            values.update(authyn="O", trno="6" + serial, authno=bank, msg1="가상계좌 발급",
                          msg2="입금 대기", isscd=account, result="6001")
        elif outcome == "mobile":
            values.update(authyn="O", trno="M" + serial, authno=approval,
                          msg1="휴대폰 결제 승인", result="M131")
        else:
            values.update(authyn="X", msg1="결제 취소", msg2="고객이 결제창을 닫음")
        return values

    # --- recv_post ----------------------------------------------------------------------

    def _recv_post(self, request: dict[str, str],
                   start_response: StartResponse) -> Iterable[bytes]:
        action, amount = request.get("sndActionType", ""), request.get("sndAmount", "")
        fault = ""
        with self._lock:
            txn = self._decided.get(request.get("sndCommConId", ""))
            if txn is not None:
                txn.calls.append((action, amount))
                if txn.fault and FAULT_ACTIONS.get(txn.fault) == action:
                    fault, txn.fault = txn.fault, ""  # the fault happens once
                    txn.faulted.append((len(txn.calls) - 1, fault))
        plain = "text/plain; charset=euc-kr"
        if txn is None or action not in (kspay.ACTION_COMPLETE, kspay.ACTION_CONFIRM):
            return _respond(start_response, "200 OK", b"NODATA", plain)
        if fault in ("timeout", "confirm_timeout"):
            time.sleep(self.fault_delay)
        if action == kspay.ACTION_CONFIRM:
            return _respond(start_response, "200 OK", CONFIRM_REPLY, plain)
        if fault == "garbage":
            return _respond(start_response, "200 OK", GARBAGE, "text/html")
        reply = txn.reply
        posted_amount = txn.fields.get("sndAmount", "")
        if reply.get("authyn") == "O" and (
                amount != posted_amount or request.get("sndStoreid") != txn.fields.get("sndStoreid")):
            # KSNET refuses a payment whose amount (or store) is not the merchant's.
            reply = {**reply, "authyn": "X", "authno": "AMT1",
                     "msg1": "금액 불일치", "msg2": f"요청 {amount} 결제창 {posted_amount}"}
        params = results.parse_params(request.get("sndRpyParams"))
        line = results.encode_reply(reply, params, first="sandbox")
        return _respond(start_response, "200 OK", line, plain)


def _shown_mpi(showcard: str, code2: str) -> bool:
    """Whether sndShowcard (`I,M`, `M(04,05)`) shows the MPI card with this code."""
    if "M(" in showcard:
        return code2 in showcard.split("M(", 1)[1].split(")", 1)[0].split(",")
    return "M" in showcard.split(",")


def _read_body(environ: dict) -> bytes | tuple[str, str]:
    """The posted body; (status, why) when Content-Length is not a number of bytes up to
    MAX_BODY_BYTES (read(-1) would read to the end of the stream)."""
    written = (environ.get("CONTENT_LENGTH") or "0").strip()
    if not (written.isascii() and written.isdigit()):
        return "400 Bad Request", f"Content-Length {written[:20]!r} is not a number of bytes"
    length = kspay.whole_number(written)
    if length is None or length > MAX_BODY_BYTES:  # None: more than 18 digits
        return "413 Content Too Large", f"{written[:20]} bytes, the limit is {MAX_BODY_BYTES:,}"
    return environ["wsgi.input"].read(length) if length else b""


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL that passed the sndReply rule."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _respond(start_response: StartResponse, status: str, body: bytes,
             content_type: str, policy: str = CSP) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                            ("Content-Security-Policy", policy)])
    return [body]
