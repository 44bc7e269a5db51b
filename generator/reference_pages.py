"""The reference appendix as tables: one model feeds both the HTML page and its JSON twin.

A `Table` holds typed rows (what the JSON carries); the page shows each value through
`display()`, so a test can hold the two against each other cell by cell.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import kspay
from .reference import Card, Reference, recv_post_spec

MARK = "O"


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True)
class Table:
    key: str  # the table's id in the page and its key in the JSON twin
    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    anchors: tuple[str, ...]  # one per row: "card-010008"
    flags: tuple[str, ...] = ()  # one per row: "" or a short Korean warning
    notes: tuple[str, ...] = ()
    extra_anchors: tuple[tuple[str, ...], ...] = ()  # more ids per row (bank-13 in 12~15)


@dataclass(frozen=True)
class ReferencePage:
    slug: str  # cards, banks, ...: _site/reference/<slug>/index.html and <slug>.json
    title: str
    intro: tuple[str, ...]
    tables: tuple[Table, ...] = field(default_factory=tuple)


def display(value: Any) -> str:
    """How a JSON value reads in a table cell."""
    if value is True:
        return MARK
    if value is False or value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(display(v) for v in value)
    return str(value)


def _table(key: str, title: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]],
           anchors: list[str], **extra: Any) -> Table:
    return Table(key, title, tuple(Column(k, label) for k, label in columns), tuple(rows),
                 tuple(anchors), **extra)


def _card_flag(card: Card) -> str:
    if not card.conflict:
        return ""
    marks = "·".join(m for m, on in (("ISP", card.isp), ("MPI", card.mpi)) if on) or "표시 없음"
    listed = (card.agency_list or "").upper() or "없음"
    return f"불일치: 표 {marks} / 대행가맹점 목록 {listed}"


def cards_page(ref: Reference) -> ReferencePage:
    cards = _table(
        "cards", "카드사 코드표",
        [("code6", "6자리 코드"), ("code2", "2자리 코드"), ("name", "카드사 명 (가이드)"),
         ("name_today", "현재 이름"), ("isp", "ISP 인증"), ("mpi", "MPI 인증"), ("note", "비고"),
         ("agency_list", "대행가맹점 목록"), ("agency_name", "목록의 이름"),
         ("conflict", "불일치 설명")],
        [{"code6": c.code6, "code2": c.code2, "name": c.name, "name_today": c.name_today,
          "isp": c.isp, "mpi": c.mpi, "note": c.note,
          "agency_list": c.agency_list.upper() if c.agency_list else None,
          "agency_name": c.agency_name, "conflict": c.conflict} for c in ref.cards],
        [f"card-{c.code6}" for c in ref.cards],
        flags=tuple(_card_flag(c) for c in ref.cards),
        notes=ref.card_notes)
    agency = [
        _table(key, title, [("code6", "6자리 코드"), ("name", "카드사 명")],
               [{"code6": a.code6, "name": a.name} for a in rows],
               [f"{key.replace('_', '-')}-{a.code6}" for a in rows])
        for key, title, rows in (("agency_isp", "ISP 인증 카드사 (KSNET 대행가맹점)", ref.agency_isp),
                                 ("agency_mpi", "MPI 인증 카드사 (KSNET 대행가맹점)", ref.agency_mpi))
    ]
    conflicts = sum(1 for c in ref.cards if c.conflict)
    return ReferencePage("cards", "카드사 코드", (
        "KSPay는 카드사 코드를 6자리(010008) 또는 2자리(08)로 씁니다. 결과의 발급사·매입사 코드"
        "(isscd, aqucd)는 2자리 코드 뒤에 공백 4자리가 붙어 옵니다.",
        f"가이드의 코드표와 대행가맹점 인증 방식 목록은 {conflicts}개 카드사에서 서로 다릅니다. "
        "그런 행은 표시해 두고 두 값을 모두 보여 줍니다. '현재 이름'은 가이드 이후의 합병·"
        "사명 변경을 더한 것입니다."), (cards, *agency))


def banks_page(ref: Reference) -> ReferencePage:
    def code(bank: Any) -> str:
        return f"{bank.code}~{bank.code_end}" if bank.code_end else bank.code

    banks = _table(
        "banks", "은행 코드표",
        [("code", "코드 (가이드)"), ("kftc", "금융결제원 코드"), ("name", "은행 명 (가이드)"),
         ("name_today", "현재 이름"), ("note", "비고"), ("kftc_note", "코드 차이")],
        [{"code": code(b), "kftc": b.kftc, "name": b.name, "name_today": b.name_today,
          "note": b.note, "kftc_note": b.kftc_note} for b in ref.banks],
        [f"bank-{b.code}" for b in ref.banks],
        flags=tuple("금융결제원 코드 다름" if b.kftc_note else "" for b in ref.banks),
        extra_anchors=tuple(
            tuple(f"bank-{n:02d}" for n in range(int(b.code) + 1, int(b.code_end) + 1))
            if b.code_end else () for b in ref.banks))
    differ = sum(1 for b in ref.banks if b.kftc_note)
    return ReferencePage("banks", "은행 코드", (
        "가상계좌를 발급한 은행의 2자리 코드입니다. recv_post 응답의 authno는 가상계좌이면 이 은행 "
        "코드이고(계좌번호는 isscd), 신용카드이면 승인번호, 거절되었으면 거절 코드 4자리입니다.",
        "가이드의 두 열을 코드 순서의 한 표로 합쳤고, 금융결제원 3자리 코드를 옆에 두었습니다. "
        f"대부분은 가이드 코드 앞에 0을 붙인 값이지만 {differ}개 행은 다르므로 표시해 두었습니다. "
        "3자리 코드는 금융결제원 코드로 읽습니다."), (banks,))


def smartphone_page(ref: Reference) -> ReferencePage:
    phone = ref.smartphone
    table = _table(
        "smartphone", "스마트폰 결제 가능 카드사",
        [("name", "카드사"), ("iphone", "아이폰"), ("android", "안드로이드"), ("ipad", "아이패드"),
         ("note", "비고")],
        [{"name": c.name, "iphone": c.iphone, "android": c.android, "ipad": c.ipad,
          "note": c.note} for c in phone.cards],
        [f"smartphone-{c.name}" for c in phone.cards],
        notes=(phone.footnote,))
    return ReferencePage("smartphone", "스마트폰 지원 카드사", (phone.intro,), (table,))


def results_page(ref: Reference) -> ReferencePage:
    res = ref.results
    fields = _table(
        "fields", "결과 항목 (recv_post 응답)",
        [("name", "변수명"), ("type", "타입"), ("length", "길이"), ("description", "설명"),
         ("seed", "가이드 원문 (정정 전)"), ("correction", "정정 내용")],
        [{"name": f.name, "type": f.type, "length": f.length, "description": f.description,
          "seed": f.seed, "correction": f.correction} for f in res.fields],
        [f"result-{f.name}" for f in res.fields],
        flags=tuple("정정됨" if f.correction else "" for f in res.fields))
    codes = _table(
        "codes", "결제수단 코드 (result)",
        [("code", "코드"), ("label", "가이드 표기"), ("method", "결제수단"), ("auth", "인증")],
        [{"code": c.code, "label": c.label, "method": c.method, "auth": c.auth} for c in res.codes],
        [f"code-{c.code}" for c in res.codes])
    prefixes = _table(
        "prefixes", "결제수단 코드(result)와 거래번호(trno)의 첫 자리",
        [("chars", "첫 자리"), ("method", "결제수단"), ("smartphone", "스마트폰 결제")],
        [{"chars": list(p.chars), "method": p.method, "smartphone": p.smartphone}
         for p in res.prefixes],
        [f"prefix-{p.chars[0]}" for p in res.prefixes],
        notes=("가이드는 거래번호(trno)의 첫 자리로 결제수단을 구분한다고 적었고, 결제수단 코드"
               "(result: 1001, I001, 6001, M131)의 첫 자리도 이 표를 따릅니다. 결제 서비스는 "
               "result의 첫 자리를 이 표로 읽어 결제수단을 정합니다.",))
    authyn = _table(
        "authyn", "승인구분 (authyn)",
        [("value", "값"), ("label", "승인구분"), ("result_label", "성공여부")],
        [{"value": a.value, "label": a.label, "result_label": a.result_label} for a in res.authyn],
        [f"authyn-{a.value}" for a in res.authyn])
    spec = recv_post_spec()
    windows = _table(
        "windows", "결제창과 recv_post 주소",
        [("window", "결제창 (window)"), ("action", "결제창 주소 (폼 action)"),
         ("recv_post", "recv_post 주소"), ("charset", "보내는 문자셋")],
        [{"window": w.name, "action": w.action, "recv_post": w.recv_post,
          "charset": w.accept_charset or f"UTF-8 (sndCharSet={w.charset_field})"}
         for w in kspay.WINDOWS.values()],
        [f"window-{w.name.replace('.', '')}" for w in kspay.WINDOWS.values()],
        notes=("가맹점 서버는 주문 페이지가 쓴 결제창과 같은 경로의 recv_post를 부릅니다. mb2 "
               "가맹점은 /store/mb2/web_host/recv_post.jsp입니다.",))
    posted = _table(
        "posted", "결제창이 sndReply로 보내는 값",
        [("name", "변수명"), ("description", "설명")],
        [{"name": name, "description": spec["posted"][name]}
         for name in (*kspay.RESULT_POST_FIELDS, "ECH*")],
        [f"posted-{name.rstrip('*')}" for name in (*kspay.RESULT_POST_FIELDS, "ECH*")],
        notes=("주문번호는 오지 않습니다. 주문 페이지가 sndReply의 쿼리에 붙인 "
               f"{kspay.REPLY_ORDER}=<주문번호>로 압니다.",))
    request = _table(
        "recv_post_request", "recv_post 요청 필드",
        [("name", "변수명"), ("description", "설명")],
        [{"name": f["name"], "description": f["description"]} for f in spec["request"]],
        [f"request-{f['name']}" for f in spec["request"]])
    actions = _table(
        "actions", "sndActionType",
        [("value", "값"), ("description", "설명")],
        [{"value": value, "description": spec["actions"][value]}
         for value in (kspay.ACTION_COMPLETE, kspay.ACTION_CONFIRM)],
        [f"action-{value}" for value in (kspay.ACTION_COMPLETE, kspay.ACTION_CONFIRM)])
    receipts = _table(
        "receipts", "영수증 출력 및 조회 (가이드 5장 <4>)",
        [("title", "페이지"), ("url", "주소"), ("note", "설명")],
        [{"title": r.title, "url": r.url, "note": r.note} for r in res.receipts],
        [f"receipt-{i}" for i, _ in enumerate(res.receipts, start=1)],
        notes=("주소는 가이드에 적힌 그대로(http)입니다.",))
    recv_post = _table(
        "recv_post", "recv_post 응답 필드 (기본 순서)",
        [("position", "순서"), ("name", "변수명"), ("width", "폭 (바이트, 공백 채움)"),
         ("description", "설명")],
        [{"position": i, "name": f["name"], "width": f["width"], "description": f["description"]}
         for i, f in enumerate(spec["fields"], start=1)],
        [f"recv-post-{f['name']}" for f in spec["fields"]],
        notes=("응답: EUC-KR 한 줄. 백틱(`)으로 나누어 첫 조각은 버리고, 나머지를 sndRpyParams에 "
               "적은 순서대로 읽습니다(비우면 위 기본 순서). 값은 폭만큼 뒤에 공백이 붙으므로 "
               "공백을 잘라 씁니다. halbu, cbtrno, cbauthno는 가이드에 없고 폭은 추정입니다."))
    return ReferencePage("results", "결과 코드", (
        "가맹점 서버가 reCommConId로 KSNET의 recv_post를 호출하면 EUC-KR 한 줄이 돌아옵니다. "
        "백틱(`)으로 나눈 조각 중 첫 조각은 버리고, 나머지가 아래 순서의 공백 채운 값입니다.",
        "가이드의 결과 항목 표에는 오타가 세 곳 있습니다(거래번호 길이 4, trdtm 두 번, "
        "HHMMTT). 아래 표는 정정한 값이며, 정정한 행에는 가이드 원문과 정정 내용을 함께 적었습니다.",
        "결제는 가맹점 서버가 recv_post를 sndActionType=1로 부를 때 이루어지고, 결과를 저장한 뒤 "
        "3으로 다시 부릅니다. 고객이 결제창을 닫으면 reCnclType=1이 오고, 결제된 것이 없으므로 "
        "recv_post를 부르지 않습니다.",
        *res.notes), (windows, posted, request, actions, fields, recv_post, codes, prefixes,
                      authyn, receipts))


def parameters_page() -> ReferencePage:
    table = _table(
        "parameters", "KSPay 결제창 파라미터",
        [("name", "변수명"), ("label", "항목"), ("meaning", "설명"), ("required", "필수"),
         ("max_bytes", "최대 바이트 (EUC-KR)"), ("allowed", "허용 문자"),
         ("forbidden", "금지 문자"), ("example", "예"), ("set_by", "설정 위치"),
         ("source", "출처"), ("conflict", "가이드 안의 불일치")],
        [{"name": f.name, "label": f.label, "meaning": f.meaning, "required": f.required,
          "max_bytes": f.max_bytes, "allowed": f.allowed, "forbidden": f.forbidden,
          "example": f.example, "set_by": f.set_by, "source": f.source,
          "conflict": f.conflict} for f in kspay.FIELDS],
        [f"param-{f.name.rstrip('*')}" for f in kspay.FIELDS],
        flags=tuple("가이드 불일치" if f.conflict else "" for f in kspay.FIELDS))
    return ReferencePage("parameters", "결제창 파라미터", (
        "주문 페이지가 KSPay 결제창으로 보내는 모든 필드입니다. 이 표는 생성기의 검증 규칙"
        "(generator/kspay.py)에서 그대로 만들어지므로 규칙과 어긋날 수 없습니다.",
        f"설정 위치의 키는 가맹점 YAML의 키입니다. customer는 고객이 주문 페이지에서 입력하는 "
        f"값, page script는 결제 버튼을 누를 때 페이지가 만드는 값입니다. 바이트는 EUC-KR "
        f"기준입니다(한글 2바이트, 영문·숫자 1바이트). 할부는 {kspay.INSTALLMENT_MIN_AMOUNT:,}원 "
        f"이상, 카드 결제는 {kspay.CARD_MIN_AMOUNT:,}원 이상입니다.",
        "바이트는 정확히는 CP949(확장 완성형)로 셉니다. 브라우저는 accept-charset=\"EUC-KR\"인 "
        "폼을 CP949로 보내기 때문입니다. CP949에는 엄격한 EUC-KR(KS X 1001 완성형 2,350자)에 없는 "
        "한글 8,822자(똠, 샾 등)가 더 있고, 엄격한 EUC-KR로 읽는 서버에서는 이 글자가 깨집니다. "
        "그래서 mb2 결제창(EUC-KR)을 쓰는 가맹점 YAML의 상점 이름, 대표자명, 주소, 상품명, ECH "
        "값에 이런 글자가 있으면 오류로 막습니다. 고객이 입력하는 이름은 막지 않습니다: 바이트 수는 "
        "어느 쪽이든 같고, 막으려면 주문 페이지 스크립트가 완성형 2,350자 표를 모두 가져야 합니다.",
        "가이드 안에서 서로 다르게 적힌 값은 '가이드 안의 불일치' 열에 두 값과 따른 쪽을 적었습니다."),
        (table,))


def table_pages(ref: Reference) -> list[ReferencePage]:
    return [cards_page(ref), banks_page(ref), smartphone_page(ref), results_page(ref),
            parameters_page()]


def json_twin(page: ReferencePage) -> bytes:
    """The page's tables as UTF-8 JSON, keys in column order, rows in table order."""
    data: dict[str, Any] = {"title": page.title}
    for table in page.tables:
        data[table.key] = [dict(row) for row in table.rows]
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
