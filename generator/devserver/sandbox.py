"""A local stand-in for the KSPay window, for testing a whole payment without a card.

It takes the order page's form post, checks every field with `kspay.form_problems` and
shows in Korean what the real window would refuse; then the tester chooses the outcome
(card approval by ISP or MPI, refusal, virtual account, mobile, or closing the window).
It posts back to sndReply the way KSPay does (reCommConId, reCommType=WH, reHash,
reCnclType and the ECH* fields; the order number only in sndReply's own query) and
answers recv_post with the one EUC-KR line that `generator.results` reads.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from .. import kspay, results
from ..reference import load_reference
from .pages import render_page

PREFIX = "/__sandbox"
WINDOW_PATH = f"{PREFIX}/KSPayPWeb.jsp"
DECIDE_PATH = f"{PREFIX}/decide"

StartResponse = Callable[..., object]


def recv_post_path() -> str:
    return PREFIX + results.recv_post_spec()["path"]


@dataclass
class Transaction:
    fields: dict[str, str]
    euc_kr: bool  # posted in EUC-KR (the mb2 window): answer sndReply the same way
    reply: dict[str, str] = field(default_factory=dict)  # recv_post values once decided


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

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Transaction] = {}
        self._decided: dict[str, Transaction] = {}
        self._serial = 0

    def handles(self, path: str) -> bool:
        return path.startswith(PREFIX + "/")

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST":
            return _respond(start_response, "405 Method Not Allowed",
                            b"the sandbox takes form posts", "text/plain; charset=utf-8")
        body = _read_body(environ)
        if path == WINDOW_PATH:
            fields, euc_kr = decode_form(body, environ.get("CONTENT_TYPE", ""))
            return self._window(fields, euc_kr, start_response)
        if path == DECIDE_PATH:
            choice = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
            return self._decide(choice, start_response)
        if path == recv_post_path():
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
            self._pending[session] = Transaction(fields, euc_kr)
        bits = fields.get("sndPaymethod", "")
        methods = [m for m, pos in kspay.PAYMETHOD_POSITIONS.items() if bits[pos - 1:pos] == "1"]
        ref = load_reference()
        showcard = fields.get("sndShowcard", "I,M")
        html = render_page(
            "sandbox_window.html", fields=fields, problems=problems, session=session,
            methods=methods, euc_kr=euc_kr,
            isp_cards=[c for c in ref.cards if c.isp] if "I" in showcard else [],
            mpi_cards=[c for c in ref.cards if c.mpi and _shown_mpi(showcard, c.code2)],
            banks=[b for b in ref.banks if not b.code_end],
            months=[int(m) for m in fields.get("sndInstallmenttype", "0").split(":") if m.isdigit()],
            amount=int(fields["sndAmount"]) if fields.get("sndAmount", "").isdigit() else None,
            ech=sorted((k, v) for k, v in fields.items() if k.startswith("ECH")),
            decide_path=DECIDE_PATH)
        status = "200 OK" if not problems else "422 Unprocessable Entity"
        return _respond(start_response, status, html.encode("utf-8"), "text/html; charset=utf-8")

    def _decide(self, choice: dict[str, str], start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            txn = self._pending.pop(choice.get("session", ""), None)
        if txn is None:
            return _respond(start_response, "410 Gone", "이미 처리했거나 없는 결제창입니다."
                            .encode(), "text/plain; charset=utf-8")
        outcome = choice.get("outcome", "cancel")
        has_problems = bool(kspay.form_problems(txn.fields))
        if has_problems:
            outcome = "cancel"  # the real window refuses such a form: it can only be closed
        txn.reply = self._reply_values(txn.fields, outcome, choice)
        with self._lock:
            self._serial += 1
            conn_id = f"SBX{time.strftime('%Y%m%d%H%M%S')}{self._serial:06d}"
            self._decided[conn_id] = txn
        posted = [("reCommConId", conn_id), ("reCommType", "WH"),
                  ("reHash", hashlib.sha256(conn_id.encode()).hexdigest()[:32]),
                  ("reCnclType", "1" if outcome == "cancel" else "0")]
        posted += sorted((k, v) for k, v in txn.fields.items() if k.startswith("ECH"))
        html = render_page("sandbox_return.html", action=txn.fields.get("sndReply", ""),
                           posted=posted, euc_kr=txn.euc_kr, cancelled=outcome == "cancel")
        return _respond(start_response, "200 OK", html.encode("utf-8"), "text/html; charset=utf-8")

    def _reply_values(self, fields: dict[str, str], outcome: str,
                      choice: dict[str, str]) -> dict[str, str]:
        now = time.localtime()
        serial = f"{int(time.time() * 1000) % 10**11:011d}"
        values = {"trddt": time.strftime("%Y%m%d", now), "trdtm": time.strftime("%H%M%S", now),
                  "amt": fields.get("sndAmount", ""), "ordno": fields.get("sndOrdernumber", ""),
                  "halbu": "00"}
        approval = f"{secrets.randbelow(10**8):08d}"
        if outcome in ("isp", "mpi"):
            code = choice.get(f"{outcome}_issuer", "")
            card = next((c for c in load_reference().cards if c.code2 == code), None)
            result = "I001" if outcome == "isp" else "1001"
            months = choice.get("halbu", "0")
            values.update(authyn="O", trno=result[0] + serial, authno=approval,
                          msg1="정상승인", msg2=card.name_today if card else "", isscd=code,
                          aqucd=code, result=result,
                          halbu=f"{int(months):02d}" if months.isdigit() else "00")
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
        with self._lock:
            txn = self._decided.get(request.get("sndCommConId", ""))
        if txn is None:
            return _respond(start_response, "200 OK", b"NODATA", "text/plain; charset=euc-kr")
        params = results.parse_params(request.get("sndRpyParams"))
        line = results.encode_reply(txn.reply, params, first="sandbox")
        return _respond(start_response, "200 OK", line, "text/plain; charset=euc-kr")


def _shown_mpi(showcard: str, code2: str) -> bool:
    """Whether sndShowcard (`I,M`, `M(04,05)`) shows the MPI card with this code."""
    if "M(" in showcard:
        return code2 in showcard.split("M(", 1)[1].split(")", 1)[0].split(",")
    return "M" in showcard.split(",")


def _read_body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(length, 1_000_000)) if length > 0 else b""


def _respond(start_response: StartResponse, status: str, body: bytes,
             content_type: str) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store")])
    return [body]
