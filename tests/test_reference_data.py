"""The reference data against KSNET's smartphone guide, row by row.

The expected values below are typed from the seed (Chapter 3 결과항목, Chapter 4 Q&A,
Chapter 5 부록), not read from the data files, so a slip in either shows up here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.reference import (
    bank_by_code,
    card_by_code,
    load_reference,
    strip_code_padding,
)

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "kspay-smartphone-guide.txt"

# (code6, name, ISP mark, MPI mark, note) from <2> 카드사코드표, in the seed's order.
CARDS = [
    ("010001", "비씨카드", True, False, ""),
    ("010002", "국민카드", True, False, ""),
    ("010003", "외환카드", False, True, ""),
    ("010004", "삼성카드", False, True, ""),
    ("010005", "신한카드", False, True, "2008.8.18 신한-LG 전산통합"),
    ("010008", "현대카드", False, True, ""),
    ("010009", "롯데카드", False, True, "롯데아멕스 카드 포함"),
    ("010011", "한미은행", False, True, ""),
    ("010012", "수협", True, True, "(2012.10.25 mpi -> isp로 변경)"),
    ("010014", "우리은행", True, False, ""),
    ("010015", "농협", False, False, "일반"),
    ("010016", "제주은행", False, True, ""),
    ("010017", "광주은행", False, True, ""),
    ("010018", "전북은행", True, False, "(2012.12.18 mpi -> isp로 변경)"),
    ("010019", "조흥은행", False, True, "(조흥카드 신한으로 통합되어 없어짐, 취소는 존재)"),
    ("010023", "주택은행", False, False, "(거절시 발급사코드로 나올수 있음, 승인은 불가)"),
    ("010024", "하나은행", False, True, ""),
    ("010026", "씨티은행", False, True, ""),
    ("010025", "해외카드사", False, False, ""),
    ("010099", "기타", False, False, ""),
]

AGENCY_ISP = [
    ("010001", "비씨카드"),
    ("010002", "국민카드"),
    ("010014", "우리은행"),
    ("010012", "수협"),
    ("010018", "전북은행"),
    ("010017", "광주은행"),
    ("010016", "제주은행"),
]
AGENCY_MPI = [
    ("010003", "외환카드"),
    ("010004", "삼성카드"),
    ("010005", "신한카드"),
    ("010008", "현대카드"),
    ("010009", "롯데카드"),
    ("010011", "한미은행"),
    ("010015", "NH카드"),
    ("010024", "하나SK"),
    ("010026", "씨티은행"),
]
CONFLICTS = {"010012", "010015", "010016", "010017", "010019"}

# <3> 은행 코드 표: both columns, in code order; "12" stands for the 12~15 row.
BANKS = [
    ("01", "한국은행"), ("02", "산업은행"), ("03", "기업은행"), ("04", "국민은행"),
    ("05", "외환은행"), ("06", "주택은행"), ("07", "수협은행"), ("08", "수출입"),
    ("09", "장기신용"), ("10", "신농협중앙"), ("11", "농협중앙"), ("12", "농협회원"),
    ("16", "축협중앙"), ("20", "우리은행"), ("21", "조흥은행"), ("22", "상업은행"),
    ("23", "제일은행"), ("24", "한일은행"), ("25", "서울은행"), ("26", "신한은행"),
    ("27", "한미은행"), ("28", "동화은행"), ("29", "동남은행"), ("30", "대동은행"),
    ("31", "대구은행"), ("32", "부산은행"), ("33", "충청은행"), ("34", "광주은행"),
    ("35", "제주은행"), ("36", "경기은행"), ("37", "전북은행"), ("38", "강원은행"),
    ("39", "경남은행"), ("40", "충북은행"), ("53", "씨티은행"), ("71", "우체국"),
    ("76", "신용보증"), ("81", "하나은행"), ("82", "보람은행"), ("83", "평화은행"),
    ("93", "새마을금고"),
]

SMARTPHONE_CARDS = [
    "국민카드", "비씨카드", "우리카드", "수협카드", "광주카드", "전북카드", "제주카드",
    "삼성카드", "신한카드", "현대카드", "시티카드", "하나SK카드", "롯데카드", "외환카드",
    "NH카드",
]

# Chapter 4, by heading; a question the seed wraps over two lines is joined with a space.
FAQ = {
    "모듈 설치 테스트 & 변경": [
        "전산담당자가 없습니다. KSPAY에서 작업을 해 주실 수 없나요?",
        "테스트카드 없나요?",
        "테스트 상점아이디로 신용카드 결제 테스트를 하는데 PG입점업체해제라고 나옵니다.",
        "홈페이지 리뉴얼로 결제 부분 변경 하는데 샘플페이지에 해당하는 페이지가 없습니다 또는 "
        "보내주신 파일에 해당하는 파일명을 가진 페이지가 없습니다.",
        "테스트 상점아이디로는 정상결제가 되는데 실제 상점아이디로는 결제가 되지 않습니다.",
        "상품명 오류라는 에러 메시지가 뜨고 있습니다.",
    ],
    "신용카드 결제": [
        "체크 카드 결제 후 결제 취소 시 지불된 금액이 언제 환불되나요?",
        "카드사 및 PG사 무이자 행사 시 이자 구분값은 어떻게 넘겨야 합니까?",
        "국민/삼성카드 결제를 하니 결제가 업체 해지라는 메시지가 나옵니다.",
        "카드사 창에 “test store”라고 나옵니다. 이 부분을 업체명으로 변경하고자 합니다.",
    ],
    "가상계좌": ["무통장입금을 지원하나요? 만약 지원한다면 어떻게 사용하나요?"],
    "휴대폰 결재": [
        "휴대폰 결재 시 SMS는 몇 분 안에 입력해야 하나요?",
        "테스트 할 수 있는 휴대폰 번호는 없나요?",
        "명의자 주민번호가 맞지 않는다고 나옵니다.",
    ],
    "기타 문의 사항": [
        "케이에스넷 상점 아이디랑 패스워드는 어디에서 받나요?",
        "한도초과라고 나오면서 결제가 이루어지지 않고 있습니다.",
    ],
}


@pytest.fixture(scope="module")
def ref():
    return load_reference()


# -- cards ----------------------------------------------------------------------------


def test_cards_every_row_in_seed_order(ref):
    got = [(c.code6, c.name, c.isp, c.mpi, c.note) for c in ref.cards]
    assert got == CARDS
    assert len(ref.cards) == 20


def test_card_code2_is_the_last_two_digits(ref):
    assert [c.code2 for c in ref.cards] == [code6[-2:] for code6, *_ in CARDS]


def test_agency_lists(ref):
    assert [(a.code6, a.name) for a in ref.agency_isp] == AGENCY_ISP
    assert [(a.code6, a.name) for a in ref.agency_mpi] == AGENCY_MPI


def test_card_agency_columns_match_the_lists(ref):
    isp, mpi = dict(AGENCY_ISP), dict(AGENCY_MPI)
    for card in ref.cards:
        if card.code6 in isp:
            assert (card.agency_list, card.agency_name) == ("isp", isp[card.code6])
        elif card.code6 in mpi:
            assert (card.agency_list, card.agency_name) == ("mpi", mpi[card.code6])
        else:
            assert (card.agency_list, card.agency_name) == (None, None), card.code6


def test_conflict_rows_exactly_where_table_and_lists_disagree(ref):
    isp, mpi = dict(AGENCY_ISP), dict(AGENCY_MPI)
    disagree = {
        c.code6 for c in ref.cards if (c.isp, c.mpi) != (c.code6 in isp, c.code6 in mpi)
    }
    assert disagree == CONFLICTS
    assert {c.code6 for c in ref.cards if c.conflict} == CONFLICTS
    for card in ref.cards:
        assert card.conflict is None or card.conflict.strip()


def test_card_today_names(ref):
    today = {c.code6: c.name_today for c in ref.cards}
    assert today["010003"] == "하나카드"
    assert today["010011"] == "한국씨티은행"
    assert today["010019"] == "신한카드"
    assert today["010023"] == "KB국민은행"
    assert today["010014"] == "우리카드"
    assert today["010099"] == "기타"


def test_card_notes_under_the_table(ref):
    assert "스마트폰 모듈은 ISP/MPI만 가능합니다." in ref.card_notes
    assert "다음은 KSNET 대행가맹점의 인증 방식별 카드사구분입니다." in ref.card_notes
    assert any("010008" in n and '"08"' in n for n in ref.card_notes)


@pytest.mark.parametrize(
    "code", ["08", "010008", "08    ", " 08", "010008 ", "\t08\n"]
)
def test_card_by_code_accepts_every_shape(code):
    card = card_by_code(code)
    assert card is not None and card.name == "현대카드"


@pytest.mark.parametrize("code", ["", "    ", "8", "07", "010007", "020008", "０８", "ab"])
def test_card_by_code_unknown(code):
    assert card_by_code(code) is None


def test_card_by_code_every_row(ref):
    for code6, name, *_ in CARDS:
        assert card_by_code(code6).name == name
        assert card_by_code(code6[-2:] + "    ").name == name


def test_strip_code_padding():
    assert strip_code_padding("08    ") == "08"
    assert strip_code_padding(" 08") == "08"
    assert strip_code_padding("08") == "08"


# -- banks ----------------------------------------------------------------------------


def test_banks_complete_in_code_order(ref):
    assert [(b.code, b.name) for b in ref.banks] == BANKS
    assert len(ref.banks) == 41
    codes = [int(b.code) for b in ref.banks]
    assert codes == sorted(codes)


def test_bank_range_row(ref):
    ranged = [b for b in ref.banks if b.code_end]
    assert [(b.code, b.code_end, b.name, b.kftc) for b in ranged] == [
        ("12", "15", "농협회원", "012")  # KFTC has one code for them all
    ]


def test_bank_kftc_codes(ref):
    # KFTC's codes: the guide's with a zero in front, except 새마을금고 (KFTC 045; KFTC's
    # 093 is 한국주택금융공사) and the range 12~15 (all 012).
    differ = {"12": "012", "93": "045"}
    for bank in ref.banks:
        assert bank.kftc == differ.get(bank.code, "0" + bank.code), bank
        assert bool(bank.kftc_note) == (bank.code in differ), bank
    notes = {b.code: b.kftc_note for b in ref.banks if b.kftc_note}
    assert "045" in notes["93"] and "093" in notes["93"] and "한국주택금융공사" in notes["93"]
    assert "012" in notes["12"]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("26", "신한은행"),
        ("026", "신한은행"),
        ("26  ", "신한은행"),
        ("12", "농협회원"),
        ("13", "농협회원"),
        ("14", "농협회원"),
        ("012", "농협회원"),
        ("16", "축협중앙"),
        ("93", "새마을금고"),
        ("045", "새마을금고"),
        ("045   ", "새마을금고"),
    ],
)
def test_bank_by_code(code, name):
    assert bank_by_code(code).name == name


@pytest.mark.parametrize("code", ["17", "19", "41", "99", "", "126", "1", "x1", "093", "015"])
def test_bank_by_code_unknown(code):
    assert bank_by_code(code) is None


def test_bank_today_names(ref):
    today = {b.code: b.name_today for b in ref.banks}
    assert today["05"] == "하나은행"
    assert today["21"] == "신한은행"
    assert today["27"] == "한국씨티은행"
    assert today["31"] == "iM뱅크"
    assert today["26"] == "신한은행"


# -- smartphone -----------------------------------------------------------------------


def test_smartphone_table(ref):
    phone = ref.smartphone
    assert [c.name for c in phone.cards] == SMARTPHONE_CARDS
    for card in phone.cards:
        assert (card.iphone, card.android, card.ipad, card.note) == (
            True, True, True, "30만원이상가능"
        )
    assert phone.intro == "· BC,국민,우리,수협,전북,제주,광주,외환,삼성,신한,현대,롯데,NH,하나SK,씨티"
    assert phone.footnote == "카드사의 지원에 따라 위의 내용은 바뀔 수 있습니다."


# -- results --------------------------------------------------------------------------


def test_result_fields_corrected(ref):
    fields = ref.results.fields
    assert [(f.name, f.type, f.length) for f in fields] == [
        ("result", "문자열", 4),
        ("authyn", "문자열", 1),
        ("ordno", "문자열", 50),
        ("trno", "문자열", 12),
        ("trddt", "문자열", 8),
        ("trdtm", "문자열", 6),
        ("amt", "숫자", 9),
        ("msg1", "문자열", 16),
        ("msg2", "문자열", 16),
        ("authno", "문자열", 12),
        ("isscd", "문자열", 6),
        ("aqucd", "문자열", 6),
    ]
    by_name = {f.name: f for f in fields}
    assert by_name["trddt"].description == "거래일자(YYYYMMDD)"
    assert by_name["trdtm"].description == "거래시간(HHMMSS)"
    assert "HHMMTT" in by_name["trdtm"].seed
    assert by_name["trno"].seed == "trno | 문자열 | 4 | 거래번호"
    assert by_name["trddt"].seed.startswith("trdtm |")
    corrected = {f.name for f in fields if f.correction}
    assert corrected == {"trno", "trddt", "trdtm"}
    assert corrected == {f.name for f in fields if f.seed}


def test_result_codes_prefixes_authyn(ref):
    res = ref.results
    assert [(c.code, c.label) for c in res.codes] == [
        ("1001", "신용카드MPI"), ("I001", "ISP"), ("6001", "가상계좌"), ("M131", "휴대폰"),
    ]
    assert [(p.chars, p.method, p.smartphone) for p in res.prefixes] == [
        (("1", "I"), "신용카드", True),
        (("2",), "계좌이체", False),
        (("4",), "포인트", False),
        (("6",), "가상계좌", True),
        (("7",), "월드패스", False),
        (("M",), "휴대폰", True),
    ]
    assert [(a.value, a.label) for a in res.authyn] == [("O", "승인"), ("X", "거절")]
    assert "거래번호는 KSPAY에서 각 거래마다 부여하는 12자리로 된 유니크한 값입니다." in res.notes
    assert "스마트폰결제의 경우 현재 신용카드/가상계좌/휴대폰결제 만 가능합니다." in res.notes


# -- FAQ ------------------------------------------------------------------------------


def _faq_sections(markdown: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        elif line.startswith("### Q) "):
            sections[current].append(line[len("### Q) "):].strip())
    return sections


def test_faq_every_question_under_its_heading(ref):
    sections = _faq_sections(ref.faq_markdown)
    assert {k: v for k, v in sections.items() if v} == FAQ
    assert ref.faq_markdown.count("Q)") == sum(len(v) for v in FAQ.values()) == 16


@pytest.mark.skipif(not SEED.exists(), reason="seed document not present")
def test_faq_question_count_matches_seed(ref):
    text = SEED.read_text(encoding="utf-8")
    chapter4 = text[text.index("Chapter 4.") : text.index("Chapter 5.")]
    assert ref.faq_markdown.count("Q)") == chapter4.count("Q)")


def test_faq_has_no_secrets(ref):
    faq = ref.faq_markdown
    assert "주민번호 : 본인" not in faq
    assert not re.search(r"비밀번호\s*:", faq)
    assert not re.search(r"\bkspay\b", faq)  # the test store's password
    assert "http://pgims.ksnet.co.kr/pg_infoc/src/login.jsp" in faq
    assert "테스트상점 아이디 : 2999199999" in faq


def test_faq_appendix(ref):
    assert "## 부록: 상점정보 옵션" in ref.faq_markdown
    assert "승인중복체크" in ref.faq_markdown and "매입중복체크" in ref.faq_markdown
