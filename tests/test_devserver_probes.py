"""Probes of `serve --sandbox` on 127.0.0.1, as a hostile page in the same browser (or a
client on the machine) would send them: every answer is a clean 4xx or the page itself,
with a Content-Security-Policy, never a 500, a redirect to another host or a script URL
made a form's action.

Requests are written byte for byte on a socket, so that a Host header, a Content-Length
or a path can be anything.
"""

from __future__ import annotations

import shutil
import socket
import time
from typing import Iterator
from urllib.parse import quote, urlencode

import pytest
from bs4 import BeautifulSoup

from conftest import SITES
from generator import kspay, results
from generator.devserver import sandbox
from generator.devserver.server import DevServer

WINDOW = sandbox.WINDOW_PATH


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    sites = tmp_path_factory.mktemp("probes") / "sites"
    shutil.copytree(SITES, sites)
    dev = DevServer(sites, port=0, use_sandbox=True, log=lambda line: None)
    dev.start()
    yield dev
    dev.stop()


class Answer:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, _, v in
                        (line.partition(":") for line in lines[1:])}

    def text(self) -> str:
        return self.body.decode("utf-8")


def send(server: DevServer, request: bytes, body_after: bytes = b"",
         timeout: float = 5) -> Answer:
    """Write `request` (head and body) and read the answer; `body_after` is written only
    once the answer has come, so a server that waits for it fails by the timeout."""
    with socket.create_connection(("127.0.0.1", server.httpd.server_port), timeout=timeout) as s:
        s.sendall(request)
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
        try:
            s.sendall(body_after)
        except OSError:
            pass  # the server has closed: it never read the body
    return Answer(raw)


def request(server: DevServer, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, host: str | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host or server.base[len('http://'):]}",
             "Connection: close"]
    all_headers = dict(headers or {})
    if body is not None:
        all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        all_headers.setdefault("Content-Length", str(len(body)))
    lines += [f"{k}: {v}" for k, v in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + (body or b"")


def window_form(**overrides: str) -> bytes:
    fields = {"sndPaymethod": "1000000000", "sndStoreid": "2999199999", "sndCurrencytype": "WON",
              "sndOrdernumber": "KSPAY20261201093000123456", "sndAllregid": "",
              "sndInstallmenttype": "0", "sndInteresttype": "NONE", "sndShowcard": "I,M",
              "sndGoodname": "당근10kg", "sndAmount": "1003", "sndOrdername": "김토끼",
              "sndReply": "https://shop.example.kr/kspay/result?ordno=KSPAY20261201093000123456",
              "sndStoreName": "케이에스페이(주)", "sndRtApp": "", "sndCharSet": "utf-8"}
    fields.update(overrides)
    return urlencode(fields).encode("ascii")


def open_window(server: DevServer, **overrides: str) -> tuple[Answer, str]:
    answer = send(server, request(server, "POST", WINDOW, window_form(**overrides)))
    page = BeautifulSoup(answer.text(), "html.parser")
    return answer, page.find("input", attrs={"name": "session"})["value"]


def decide(server: DevServer, session: str, outcome: str = "cancel") -> Answer:
    body = urlencode({"session": session, "outcome": outcome}).encode()
    return send(server, request(server, "POST", sandbox.DECIDE_PATH, body))


def csp(answer: Answer) -> dict[str, str]:
    policy = answer.headers["content-security-policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


# --- the Host header (DNS rebinding) --------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1",
                                  "127.0.0.1:1", "localhost.evil.example:{port}",
                                  "127.0.0.2:{port}", "0.0.0.0:{port}", "[::ffff:127.0.0.1]:{port}",
                                  "127.0.0.1:{port}.evil.example", ""])
def test_a_request_for_another_host_is_refused(server: DevServer, host: str) -> None:
    shown = host.format(port=server.httpd.server_port)
    for method, path, body in (("GET", "/", None), ("GET", "/__kspay/version", None),
                               ("POST", WINDOW, window_form()),
                               ("GET", "/kspay/health", None)):
        answer = send(server, request(server, method, path, body, host=shown or " "))
        assert answer.status == 421, (shown, path)
        assert answer.text() == f"this server answers only as {server.base}/\n"
        assert "content-security-policy" in answer.headers


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_the_loopback_names_on_the_served_port_are_answered(server: DevServer, name: str) -> None:
    answer = send(server, request(server, "GET", "/", host=f"{name}:{server.httpd.server_port}"))
    assert answer.status == 200
    assert "<title>" in answer.text()


def test_a_request_without_host_is_refused(server: DevServer) -> None:
    answer = send(server, b"GET / HTTP/1.0\r\n\r\n")
    assert answer.status == 421


# --- a CSP on every answer -----------------------------------------------------------------

def test_every_answer_carries_a_content_security_policy(server: DevServer) -> None:
    _, session = open_window(server)
    probes = [("GET", "/", None), ("GET", "/kspay-test/", None),
              ("GET", "/kspay-test/carrot-10kg/", None), ("GET", "/reference/cards.json", None),
              ("GET", "/kspay-test", None), ("GET", "/no-such-page/", None),
              ("GET", "/__kspay/version", None), ("GET", "/__kspay/static/reload.js", None),
              ("GET", WINDOW, None), ("POST", WINDOW, window_form()),
              ("POST", WINDOW, window_form(sndAmount="999")),
              ("POST", sandbox.DECIDE_PATH, urlencode({"session": session}).encode()),
              ("POST", sandbox.DECIDE_PATH, b"session=gone"),
              ("POST", sandbox.recv_post_path(), b"sndCommConId=x"),
              ("GET", "/kspay/health", None), ("GET", "/a%00b", None)]
    for method, path, body in probes:
        answer = send(server, request(server, method, path, body))
        assert answer.status < 500, (path, answer.status)
        policy = csp(answer)
        assert policy["default-src"] == "'none'", path
        assert policy["base-uri"] == "'none'", path
        assert "unsafe" not in answer.headers["content-security-policy"], path
        assert policy["frame-ancestors"] == "'none'", path
    assert len(probes) == 16


def test_the_return_page_may_post_only_to_sndreplys_origin(server: DevServer) -> None:
    _, session = open_window(server, sndReply="https://shop.example.kr:8443/r?ordno=1")
    answer = decide(server, session)
    assert answer.status == 200
    assert csp(answer)["form-action"] == "https://shop.example.kr:8443"
    assert csp(answer)["script-src"] == "'self'"
    form = BeautifulSoup(answer.text(), "html.parser").find("form", id="return-form")
    assert form["action"] == "https://shop.example.kr:8443/r?ordno=1"


# --- sndReply held to reply_url's rules -------------------------------------------------------

@pytest.mark.parametrize("reply", [
    "javascript:alert(document.domain)", "JavaScript:alert(1)", " javascript:alert(1)",
    "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x",
    "//evil.example/r", "/kspay/result", "http://evil.example/r", "https://evil.example:99999/r",
    "https://.../r", "https://evil.example/\x00", "https://a.kr\\@evil.example/",
    "https://user:pw@evil.example/", "",
])
def test_the_sandbox_never_posts_back_to_a_url_reply_url_could_not_be(server: DevServer,
                                                                      reply: str) -> None:
    window, session = open_window(server, sndReply=reply)
    assert window.status == 422  # the window lists what KSPay would refuse
    answer = decide(server, session)
    assert answer.status == 400
    assert answer.text().startswith("결과를 돌려보낼 수 없습니다: ")
    # Plain text (the value is quoted in it), which no browser runs or submits.
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_local_http_reply_is_posted_back(server: DevServer) -> None:
    reply = f"{server.base}/kspay/result?site=kspay-test&product=carrot-10kg&ordno=X"
    _, session = open_window(server, sndReply=reply)
    answer = decide(server, session)
    assert answer.status == 200
    assert csp(answer)["form-action"] == server.base


# --- bodies, paths and digits ------------------------------------------------------------------

@pytest.mark.parametrize(("length", "status"), [
    ("-1", 400), ("abc", 400), ("1e3", 400), ("²", 400), ("١٠", 400), ("0x10", 400),
    ("+10", 400), ("10 10", 400), ("100001", 413), ("99999999999999999999", 413),
])
def test_a_content_length_that_is_no_byte_count_is_refused_unread(server: DevServer,
                                                                length: str, status: int) -> None:
    head = request(server, "POST", WINDOW, b"", headers={"Content-Length": length})
    # The body follows only after the answer: a server that reads it would time out.
    answer = send(server, head, body_after=b"x" * 4_000_000)
    assert answer.status == status


@pytest.mark.parametrize("path", ["/a%00b", "/%00", "/kspay-test/%00/", "/kspay-test%0a/",
                                  "/%1b[2J", "/%7f", "/__kspay/static/%00reload.js",
                                  "/" + "a" * 5000, "/" + "a/" * 3000])
def test_a_path_no_file_can_have_is_a_clean_4xx(server: DevServer, path: str) -> None:
    answer = send(server, request(server, "GET", path))
    assert answer.status in (400, 404), answer.status


@pytest.mark.parametrize(("path", "location"), [
    ("/%5Cevil.example/..%2freference", "/reference/"),
    ("/%5C%5Cevil.example/..%2freference", "/reference/"),
    ("/\\evil.example/../reference", "/reference/"),
    ("//evil.example/../reference", "/reference/"),
    ("/kspay-test/..%2fjeju-orchard", "/jeju-orchard/"),
    ("/reference/..", "/"),
    ("/kspay-test", "/kspay-test/"),
])
def test_redirects_stay_on_this_host(server: DevServer, path: str, location: str) -> None:
    answer = send(server, request(server, "GET", path))
    assert (answer.status, answer.headers["location"]) == (301, location)


@pytest.mark.parametrize(("field", "value"), [
    ("sndAmount", "²"), ("sndAmount", "١٠٠٣"), ("sndAmount", "１００３"),
    ("sndInstallmenttype", "²"), ("sndInstallmenttype", "0:²"), ("sndInterestType", "²"),
    ("sndInteresttype", "2:³"), ("sndPaymethod", "¹000000000"), ("sndAmount", "9" * 5_000),
    ("sndInstallmenttype", "0:" + "1" * 5_000),
])
def test_digits_that_are_not_ascii_are_refused_not_a_500(server: DevServer, field: str,
                                                        value: str) -> None:
    answer, session = open_window(server, **{field: value})
    assert answer.status in (200, 422)
    if field in ("sndAmount", "sndInstallmenttype", "sndPaymethod"):
        assert answer.status == 422
        problems = BeautifulSoup(answer.text(), "html.parser").find(id="problems")
        named = f"{kspay.FIELD_BY_NAME[field].label}({field})"
        assert [li.get_text() for li in problems("li") if named in li.get_text()], problems
    assert decide(server, session, outcome="isp").status == 200


def test_a_recv_post_reply_with_strange_digits_is_read(server: DevServer) -> None:
    raw = results.encode_reply({"authyn": "O", "amt": "²", "halbu": "٣", "ordno": "A1"},
                               results.default_params(), first="x")
    result = results.read_result(raw)
    assert (result.amount, result.installment_months, result.order_number) == (None, None, "A1")


# --- pending windows expire ---------------------------------------------------------------------

def test_a_window_left_open_expires(server: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server.sandbox, "pending_seconds", 0.3)
    _, session = open_window(server)
    time.sleep(0.5)
    _, fresh = open_window(server)  # posting another forgets the old one
    answer = decide(server, session)
    assert answer.status == 410
    assert "시간이 지나" in answer.text()
    assert decide(server, fresh).status == 200


def test_open_windows_are_bounded(server: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server.sandbox, "max_pending", 3)
    sessions = [open_window(server)[1] for _ in range(5)]
    assert [decide(server, s).status for s in sessions] == [410, 410, 200, 200, 200]


def test_a_form_post_of_the_order_page_still_pays(server: DevServer) -> None:
    """The probes' fixes leave the real flow alone: order page -> window -> sndReply."""
    page = BeautifulSoup(send(server, request(server, "GET", "/kspay-test/carrot-10kg/")).text(),
                         "html.parser")
    form = page.find("form", id="pay-form")
    order = "KSPAY" + time.strftime("%Y%m%d%H%M%S") + "000001"
    values = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    values.update(sndOrdername="김토끼", sndOrdernumber=order,
                  sndReply=kspay.reply_with_order(form["data-reply"], order))
    assert form["action"] == server.base + WINDOW
    window = send(server, request(server, "POST", WINDOW, urlencode(values).encode()))
    assert window.status == 200
    session = BeautifulSoup(window.text(), "html.parser").find(
        "input", attrs={"name": "session"})["value"]
    returned = decide(server, session, outcome="cancel")
    action = BeautifulSoup(returned.text(), "html.parser").find("form", id="return-form")["action"]
    assert action == f"{server.base}/kspay/result?site=kspay-test&product=carrot-10kg&ordno={order}"
    assert quote(order) == order
