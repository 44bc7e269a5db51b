"""The built reference appendix: every seed row in the HTML, the JSON twins equal to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from conftest import soup
from generator import kspay
from generator.reference import card_by_code
from test_reference_data import AGENCY_ISP, AGENCY_MPI, BANKS, CARDS, CONFLICTS, FAQ, SMARTPHONE_CARDS

PAGES = ["cards", "banks", "smartphone", "results", "parameters"]


def table_rows(page: BeautifulSoup, table_id: str) -> list[Tag]:
    return page.find("table", id=table_id).find("tbody").find_all("tr", recursive=False)


def cells(row: Tag) -> list[str]:
    return [td.get_text() for td in row.find_all("td", recursive=False)]


def shown(value: object) -> str:
    """What a JSON value must read as in its cell."""
    if value is True:
        return "O"
    if value in (False, None):
        return ""
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    return str(value)


@pytest.fixture(scope="module")
def ref_dir(built: Path) -> Path:
    return built / "reference"


def test_index_links_every_table_its_json_and_the_faq(ref_dir: Path) -> None:
    page = soup(ref_dir / "index.html")
    hrefs = [a["href"] for a in page.select("main a")]
    for slug in PAGES:
        assert f"../reference/{slug}/" in hrefs
        assert f"../reference/{slug}.json" in hrefs
    assert "../reference/faq/" in hrefs
    assert soup(ref_dir.parent / "index.html").find("a", href="./reference/") is not None


@pytest.mark.parametrize("slug", PAGES)
def test_json_twin_equals_the_html_tables(ref_dir: Path, slug: str) -> None:
    raw = (ref_dir / f"{slug}.json").read_bytes()
    data = json.loads(raw.decode("utf-8"))
    page = soup(ref_dir / slug / "index.html")
    assert page.find("a", href=f"../../reference/{slug}.json") is not None
    tables = page.find_all("table")
    assert [t["id"] for t in tables] == [k for k in data if k != "title"]
    for table in tables:
        rows = data[table["id"]]
        html_rows = table_rows(page, table["id"])
        assert len(html_rows) == len(rows)
        width = len(rows[0])
        for html_row, row in zip(html_rows, rows):
            assert cells(html_row)[:width] == [shown(v) for v in row.values()]
    # Stable: key order is the column order, the file is UTF-8 with Hangul as is.
    assert json.dumps(data, ensure_ascii=False, indent=2) + "\n" == raw.decode("utf-8")


def test_cards_every_seed_row(ref_dir: Path) -> None:
    page = soup(ref_dir / "cards" / "index.html")
    rows = table_rows(page, "cards")
    assert len(rows) == 20
    for row, (code6, name, isp, mpi, note) in zip(rows, CARDS):
        values = cells(row)
        assert row["id"] == f"card-{code6}"
        assert values[:7] == [code6, code6[4:], name, card_by_code(code6).name_today,
                              "O" if isp else "", "O" if mpi else "", note]
    assert [(r["id"], cells(r)) for r in table_rows(page, "agency_isp")] == [
        (f"agency-isp-{c}", [c, n]) for c, n in AGENCY_ISP]
    assert [(r["id"], cells(r)) for r in table_rows(page, "agency_mpi")] == [
        (f"agency-mpi-{c}", [c, n]) for c, n in AGENCY_MPI]


def test_card_contradictions_flagged_with_both_values(ref_dir: Path) -> None:
    page = soup(ref_dir / "cards" / "index.html")
    flagged = {r["id"][5:]: cells(r)[-1] for r in table_rows(page, "cards") if "flagged" in r.get("class", [])}
    assert set(flagged) == CONFLICTS
    assert flagged["010017"] == "불일치: 표 MPI / 대행가맹점 목록 ISP"
    assert flagged["010016"] == "불일치: 표 MPI / 대행가맹점 목록 ISP"
    assert flagged["010015"] == "불일치: 표 표시 없음 / 대행가맹점 목록 MPI"
    assert flagged["010012"] == "불일치: 표 ISP·MPI / 대행가맹점 목록 ISP"


def test_banks_one_table_in_code_order_with_kftc_codes(ref_dir: Path) -> None:
    page = soup(ref_dir / "banks" / "index.html")
    rows = table_rows(page, "banks")
    assert [(r["id"], cells(r)[2]) for r in rows] == [(f"bank-{c}", n) for c, n in BANKS]
    by_id = {r["id"]: cells(r) for r in rows}
    assert by_id["bank-26"][:4] == ["26", "026", "신한은행", "신한은행"]
    assert by_id["bank-12"][:3] == ["12~15", "012", "농협회원"]
    assert by_id["bank-93"][:3] == ["93", "045", "새마을금고"]
    flagged = {r["id"]: cells(r)[-2:] for r in rows if "flagged" in r.get("class", [])}
    assert set(flagged) == {"bank-12", "bank-93"}
    assert flagged["bank-93"] == [
        "금융결제원 코드로 새마을금고는 045입니다. 가이드 코드 93에 0을 붙인 093은 "
        "한국주택금융공사의 코드입니다.", "금융결제원 코드 다름"]
    intro = page.find("main").find_all("p")[0].get_text()
    assert "가상계좌이면 이 은행 코드" in intro and "거절되었으면 거절 코드 4자리" in intro
    assert by_id["bank-27"][3] == "한국씨티은행"
    assert by_id["bank-05"][3] == "하나은행"
    assert by_id["bank-21"][3] == "신한은행"
    for extra in ("bank-13", "bank-14", "bank-15"):
        assert page.find(id=extra).find_parent("tr")["id"] == "bank-12"


def test_smartphone_table(ref_dir: Path) -> None:
    page = soup(ref_dir / "smartphone" / "index.html")
    rows = table_rows(page, "smartphone")
    assert [cells(r) for r in rows] == [[n, "O", "O", "O", "30만원이상가능"] for n in SMARTPHONE_CARDS]


def test_results_page_shows_corrections(ref_dir: Path) -> None:
    page = soup(ref_dir / "results" / "index.html")
    fields = {r["id"]: cells(r) for r in table_rows(page, "fields")}
    assert fields["result-trno"][:3] == ["trno", "문자열", "12"]
    assert fields["result-trno"][4] == "trno | 문자열 | 4 | 거래번호"
    assert fields["result-trddt"][:4] == ["trddt", "문자열", "8", "거래일자(YYYYMMDD)"]
    assert fields["result-trdtm"][:4] == ["trdtm", "문자열", "6", "거래시간(HHMMSS)"]
    assert fields["result-trdtm"][-1] == "정정됨"
    codes = [cells(r)[0] for r in table_rows(page, "codes")]
    assert codes == ["1001", "I001", "6001", "M131"]
    prefixes = [cells(r)[:2] for r in table_rows(page, "prefixes")]
    assert prefixes == [["1, I", "신용카드"], ["2", "계좌이체"], ["4", "포인트"], ["6", "가상계좌"],
                        ["7", "월드패스"], ["M", "휴대폰"]]
    assert [cells(r)[:2] for r in table_rows(page, "authyn")] == [["O", "승인"], ["X", "거절"]]


def test_parameters_page_is_generated_from_kspay_py(ref_dir: Path) -> None:
    page = soup(ref_dir / "parameters" / "index.html")
    rows = table_rows(page, "parameters")
    assert [cells(r)[0] for r in rows] == [f.name for f in kspay.FIELDS]
    by_name = {cells(r)[0]: cells(r) for r in rows}
    assert by_name["sndGoodname"][4:7] == ["30", "EUC-KR 문자 (' \" ` ~ 제외)", "'\"`~"]
    assert by_name["sndStoreid"][8] == "store.id"
    assert by_name["sndOrdername"][3:5] == ["O", "20"]
    assert by_name["sndEmail"][3:5] == ["", "50"]
    assert page.find(id="param-sndAmount") is not None
    assert page.find(id="param-ECH") is not None


def test_anchors_unique_on_every_reference_page(ref_dir: Path) -> None:
    for path in sorted(ref_dir.rglob("index.html")):
        ids = [t["id"] for t in soup(path).find_all(id=True)]
        assert len(ids) == len(set(ids)), path


def test_filter_boxes_label_their_table_and_start_hidden(ref_dir: Path) -> None:
    for slug in PAGES:
        page = soup(ref_dir / slug / "index.html")
        for table in page.find_all("table"):
            box = page.find("input", attrs={"data-filter-table": table["id"]})
            assert box is not None and "filter" in box["class"]
            assert page.find("label", attrs={"for": box["id"]}) is not None
            assert box.find_parent("div").has_attr("hidden"), "readable without the script"


def test_faq_has_every_question(ref_dir: Path) -> None:
    page = soup(ref_dir / "faq" / "index.html")
    questions = [h.get_text().removeprefix("Q) ") for h in page.find_all("h3")
                 if h.get_text().startswith("Q) ")]
    assert questions == [q for qs in FAQ.values() for q in qs]
    assert [h.get_text() for h in page.find_all("h2")][:len(FAQ)] == list(FAQ)
    text = page.get_text()
    assert "비밀번호" not in text
    assert "주민번호 : 본인" not in text


def test_results_page_names_result_as_what_the_method_is_read_from(ref_dir: Path) -> None:
    page = soup(ref_dir / "results" / "index.html")
    section = page.find("table", id="prefixes").find_parent("section")
    assert section.find("h2").get_text() == "결제수단 코드(result)와 거래번호(trno)의 첫 자리"
    assert "결제 서비스는 result의 첫 자리를 이 표로 읽어 결제수단을 정합니다." in section.get_text()


def test_results_page_windows_result_post_recv_post_and_receipts(ref_dir: Path) -> None:
    page = soup(ref_dir / "results" / "index.html")
    assert [cells(r) for r in table_rows(page, "windows")] == [
        ["v1.4", "https://kspay.ksnet.to/store/KSPayMobileV1.4/KSPayPWeb.jsp",
         "https://kspay.ksnet.to/store/KSPayMobileV1.4/web_host/recv_post.jsp",
         "UTF-8 (sndCharSet=utf-8)"],
        ["mb2", "https://kspay.ksnet.to/store/mb2/KSPayPWeb.jsp",
         "https://kspay.ksnet.to/store/mb2/web_host/recv_post.jsp", "EUC-KR"]]
    posted = {cells(r)[0]: cells(r)[1] for r in table_rows(page, "posted")}
    assert list(posted) == ["reCommConId", "reCommType", "reHash", "reCnclType", "ECH*"]
    assert posted["reCnclType"].startswith("1이면 고객이 결제창을 닫은 것(취소)입니다.")
    actions = {cells(r)[0]: cells(r)[1] for r in table_rows(page, "actions")}
    assert list(actions) == ["1", "3"]
    assert actions["1"].startswith("결제를 처리하고 결과를 받습니다.")
    assert actions["3"].startswith("결과를 저장했다고 KSNET에 알립니다.")
    assert [cells(r)[0] for r in table_rows(page, "recv_post_request")] == [
        "sndCommConId", "sndActionType", "sndStoreid", "sndAmount", "sndRpyParams"]
    receipts = [cells(r)[:2] for r in table_rows(page, "receipts")]
    assert receipts == [
        ["신용카드 결제내역 조회", "http://pgims.ksnet.co.kr/pg_infoc/src/bill/credit01.jsp"],
        ["신용카드 영수증 출력 폼 샘플",
         "http://pgims.ksnet.co.kr/pg_infoc/src/bill/credit_view.jsp?tr_no=<거래번호>"]]
    assert "모바일 페이지 지원안함" in cells(table_rows(page, "receipts")[1])[2]


def test_parameters_page_shows_where_the_guide_contradicts_itself(ref_dir: Path) -> None:
    page = soup(ref_dir / "parameters" / "index.html")
    rows = table_rows(page, "parameters")
    flagged = {cells(r)[0]: cells(r)[-2] for r in rows if "flagged" in r.get("class", [])}
    assert sorted(flagged) == ["sndGoodname", "sndInstallmenttype", "sndOrdernumber",
                               "sndRtApp", "sndShowcard"]
    assert 'value="Android"' in flagged["sndRtApp"] and "'android'" in flagged["sndRtApp"]
    assert "영문 50byte, 한글 25자" in flagged["sndGoodname"]
    assert "1,003원" in flagged["sndInstallmenttype"]
    assert "C를" in flagged["sndShowcard"]
    text = page.find("main").get_text()
    assert "CP949" in text and "8,822자" in text and "똠" in text


def test_faq_marks_the_editors_notes_and_replacements(ref_dir: Path) -> None:
    page = soup(ref_dir / "faq" / "index.html")
    notes = [b.get_text(" ", strip=True) for b in page.find_all("blockquote")]
    assert len(notes) == 4 and all(n.startswith("편집 주:") for n in notes)
    # Each note sits right after the text it is about.
    before = [b.find_previous_sibling().get_text().strip() for b in page.find_all("blockquote")]
    assert before[0].endswith("테스트상점의 관리자페이지 로그인 정보는 KSNET에서 안내해 드립니다.")
    assert "원문의 로그인 정보" in notes[0]
    assert "영문 50byte, 한글 25자" in before[1] and "30바이트" in notes[1]
    assert "Part 4" in before[2] and "가이드에는 Part 4가 없습니다" in notes[2]
    assert before[3] == "테스트상점의 관리자페이지 로그인 정보는 KSNET에서 안내해 드립니다."
    assert "원문의 로그인 정보" in notes[3]


def test_reference_notes_and_descriptions_are_korean(ref_dir: Path) -> None:
    """Corrections, conflict notes, descriptions and notes: Korean, never an English
    sentence (four English words in a row)."""
    import re

    english = re.compile(r"\b[A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,}\b")
    prose_columns = {"설명", "정정 내용", "불일치 설명", "가이드 안의 불일치", "코드 차이", "비고"}
    for slug in PAGES:
        page = soup(ref_dir / slug / "index.html")
        texts = [p.get_text() for p in page.find("main").find_all("p")]
        for td in page.find_all("td"):
            if td.get("data-label") in prose_columns and td.get_text():
                texts.append(td.get_text())
        for text in texts:
            assert not english.search(text), (slug, text)
        assert all(re.search("[가-힣]", t) for t in texts if len(t) > 40), slug
