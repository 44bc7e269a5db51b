"""A store that meets Korean e-commerce rules: seller information, policy pages, the
agreements before paying, the warnings for what is missing and --strict."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SITES, VALID, soup
from generator import config, seller

# A store that is not KSNET's test store, with none of the seller items.
SHOP = VALID.replace('"2999199999"', '"2001106001"')
COMPLETE = SHOP.replace("  name: 케이에스페이(주)\n", """\
  name: 커피상회
  ceo_name: 김커피
  phone: "0212345678"
  address: 서울특별시 강남구 테헤란로 1
  business_number: "123-45-67891"
  mail_order_number: 제2025-서울강남-01234호
  email: help@shop.example.kr
  privacy_officer: 김보호
  hosting_provider: 주식회사 예시호스팅
""") + """\
policies:
  refund: |
    ## 청약철회
    받은 날부터 **7일 이내** 전화로 반품을 신청할 수 있습니다.

    단순 변심의 왕복 배송비는 고객 부담입니다.
  privacy: |
    이름, 이메일, 휴대폰 번호를 주문 처리에 쓰고 5년 보관합니다.
"""
MISSING = [
    ("store", "ceo_name", "대표자"), ("store", "address", "주소"), ("store", "phone", "전화번호"),
    ("store", "email", "전자우편"), ("store", "business_number", "사업자등록번호"),
    ("store", "mail_order_number", "통신판매업 신고번호"),
    ("store", "hosting_provider", "호스팅서비스 제공자"),
    ("store", "privacy_officer", "개인정보 보호책임자"),
    ("policies", "refund", "청약철회·교환·환불"), ("policies", "privacy", "개인정보 수집·이용"),
]


def load(tmp_path: Path, text: str) -> config.Site | list[str]:
    path = tmp_path / "shop.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    result = config.load_site(path)
    return result if isinstance(result, config.Site) else [
        str(e).replace(str(path), "shop.yaml") for e in result]


# --- formats -------------------------------------------------------------------------

@pytest.mark.parametrize("written", ['"123-45-67891"', '"1234567891"', '"616-81-12348"'])
def test_a_business_number_with_the_right_check_digit_is_accepted(tmp_path: Path,
                                                                  written: str) -> None:
    site = load(tmp_path, COMPLETE.replace('"123-45-67891"', written))
    assert isinstance(site, config.Site), site


@pytest.mark.parametrize(("written", "message"), [
    ('"123-45-67890"', "shop.yaml:7:20: store.business_number: '123-45-67890' fails the check "
     "digit: the National Tax Service's rule (weights 1,3,7,1,3,7,1,3,5 plus the carry of the "
     "ninth digit) gives 1 as the last digit, not 0; copy the number from the 사업자등록증"),
    ('"1234567892"', "shop.yaml:7:20: store.business_number: '1234567892' fails the check "
     "digit: the National Tax Service's rule (weights 1,3,7,1,3,7,1,3,5 plus the carry of the "
     "ninth digit) gives 1 as the last digit, not 2; copy the number from the 사업자등록증"),
    ('"123-45-6789"', "shop.yaml:7:20: store.business_number: must be 10 digits such as "
     "123-45-67891 (hyphens optional), got '123-45-6789'"),
    ('"12-345-67891"', "shop.yaml:7:20: store.business_number: must be 10 digits such as "
     "123-45-67891 (hyphens optional), got '12-345-67891'"),
    ('"123-45-6789O"', "shop.yaml:7:20: store.business_number: must be 10 digits such as "
     "123-45-67891 (hyphens optional), got '123-45-6789O'"),
])
def test_a_wrong_business_number_is_an_error_at_its_place(tmp_path: Path, written: str,
                                                          message: str) -> None:
    assert load(tmp_path, COMPLETE.replace('"123-45-67891"', written)) == [message]


def test_the_carry_of_the_ninth_digit_counts() -> None:
    # 9th digit 9: 9 x 5 = 45, its carry 4 is added; without it the last digit would be 5.
    assert seller.business_number_problem("616-81-12348") is None
    assert seller.business_number_problem("616-81-12345") is not None


@pytest.mark.parametrize(("key", "value", "message"), [
    ("mail_order_number", "2025강남01234", "shop.yaml:8:22: store.mail_order_number: must read "
     "as the office issued it, such as 제2025-서울강남-01234호 (year, office, number), got "
     "'2025강남01234'"),
    ("email", "help.shop.example.kr", "shop.yaml:9:10: store.email: must be an e-mail "
     "address such as help@shop.example.kr, got 'help.shop.example.kr'"),
    ("phone", '"12345"', "shop.yaml:5:10: store.phone: must be a Korean phone number, digits "
     "only, such as 0212345678 or 15881234, got '12345'"),
    ("phone", '"02-1234-5678"', "shop.yaml:5:10: store.phone: must hold digits only, got "
     "'02-1234-5678'"),
    ("privacy_officer", '"김보호\\n(담당)"', "shop.yaml:10:20: store.privacy_officer: the "
     "officer's name (and contact): one line of at most 100 characters, got '김보호\\n(담당)'"),
])
def test_each_bad_format_is_an_error_at_its_place(tmp_path: Path, key: str, value: str,
                                                 message: str) -> None:
    text = "\n".join(f"  {key}: {value}" if line.startswith(f"  {key}: ") else line
                     for line in COMPLETE.splitlines()) + "\n"
    assert load(tmp_path, text) == [message]


@pytest.mark.parametrize(("digits", "shown"), [
    ("0212345678", "02-1234-5678"), ("021234567", "02-123-4567"), ("0647250000", "064-725-0000"),
    ("01012345678", "010-1234-5678"), ("05051234567", "0505-123-4567"), ("15881234", "1588-1234"),
])
def test_phone_numbers_are_shown_as_koreans_write_them(digits: str, shown: str) -> None:
    assert seller.phone_text(digits) == shown


def test_a_product_may_not_take_the_policy_folder(tmp_path: Path) -> None:
    assert load(tmp_path, COMPLETE.replace("slug: carrot-10kg", "slug: policies")) == [
        "shop.yaml:14:11: products[0].slug: 'policies' is the folder of the store's policy "
        "pages; choose another slug"]


# --- warnings and --strict -------------------------------------------------------------

def test_each_missing_item_is_a_warning_at_its_section(tmp_path: Path) -> None:
    site = load(tmp_path, SHOP)
    assert isinstance(site, config.Site)
    # store: is on line 1; no policies: key at all, so the file's start.
    assert [str(w).replace(str(tmp_path) + "/", "") for w in site.warnings] == [
        f"shop.yaml:1:1: {section}: no {key} ({label}), which a Korean online store must show"
        for section, key, label in MISSING]


def test_a_complete_store_has_no_warning_and_the_test_store_needs_none(tmp_path: Path) -> None:
    complete = load(tmp_path, COMPLETE)
    test_store = load(tmp_path, VALID)
    assert isinstance(complete, config.Site) and isinstance(test_store, config.Site)
    assert complete.warnings == test_store.warnings == ()


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


WARNING_LINES = [f"sites/shop.yaml:1:1: {section}: no {key} ({label}), which a Korean online "
                 "store must show" for section, key, label in MISSING]
SUMMARY = ("10 warning(s): pages are published, but a Korean online store must show this; "
           "--strict makes warnings errors")


def test_check_and_build_warn_and_succeed_and_strict_fails(tmp_path: Path) -> None:
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "shop.yaml").write_text(SHOP, encoding="utf-8")
    checked = run("check", "sites", cwd=tmp_path)
    assert (checked.returncode, checked.stdout) == (0, "1 merchant file(s) valid\n")
    assert checked.stderr.splitlines() == WARNING_LINES + [SUMMARY]

    strict = run("check", "--strict", "sites", cwd=tmp_path)
    assert strict.returncode == 1
    assert strict.stderr.splitlines() == WARNING_LINES + ["10 error(s)"]

    failed = run("build", "--strict", "--sites", "sites", "--out", "_site", cwd=tmp_path)
    assert failed.returncode == 1
    assert failed.stderr.splitlines() == WARNING_LINES + ["10 error(s); nothing was written"]
    assert not (tmp_path / "_site" / "shop").exists()

    for _ in range(2):  # the first renders, the second renders nothing: both warn
        built = run("build", "--sites", "sites", "--out", "_site", cwd=tmp_path)
        assert built.returncode == 0
        assert built.stderr.splitlines() == WARNING_LINES + [SUMMARY]
    assert built.stdout.endswith(": nothing changed\n")
    assert (tmp_path / "_site" / "shop" / "index.html").is_file()
    again = run("build", "--strict", "--sites", "sites", "--out", "_site", cwd=tmp_path)
    assert again.returncode == 1  # published before, still not a complete store


# --- the pages -----------------------------------------------------------------------

def site_pages(built: Path, slug: str) -> list[Path]:
    folder = built / slug
    return [folder / "index.html", *sorted(folder.glob("*/*.html")),
            *sorted((folder / "policies").glob("*/index.html"))]


@pytest.mark.parametrize("slug", sorted(p.stem for p in SITES.glob("*.yaml")))
def test_every_store_order_and_policy_page_shows_the_seller_block(built: Path, slug: str) -> None:
    store = yaml.safe_load((SITES / f"{slug}.yaml").read_text(encoding="utf-8"))
    info, policies = store["store"], store.get("policies", {})
    expected = [("상호", info["name"], None)]
    for label, key in (("대표자", "ceo_name"), ("주소", "address")):
        if key in info:
            expected.append((label, info[key], None))
    if "phone" in info:
        expected.append(("전화", seller.phone_text(info["phone"]), f"tel:{info['phone']}"))
    if "email" in info:
        expected.append(("전자우편", info["email"], f"mailto:{info['email']}"))
    if "business_number" in info:
        expected.append(("사업자등록번호", seller.business_number_text(info["business_number"]),
                         None))
    for label, key in (("통신판매업 신고번호", "mail_order_number"),
                       ("호스팅서비스 제공자", "hosting_provider"),
                       ("개인정보 보호책임자", "privacy_officer")):
        if key in info:
            expected.append((label, info[key], None))
    titles = {"terms": "이용약관", "privacy": "개인정보처리방침", "refund": "청약철회·교환·환불"}
    links = [(titles[k], k) for k in ("terms", "privacy", "refund") if k in policies]
    if links:
        links.append(("개인정보 제3자 제공", "third-party"))
    apps = store.get("apps", {})
    variants = 1 + bool(apps.get("android")) + bool(apps.get("ios_scheme"))
    pages = site_pages(built, slug)
    assert len(pages) == 1 + len(store["products"]) * variants + len(links)
    for path in pages:
        page = soup(path)
        block = page.find("footer").find("section", class_="seller")
        rows = [(dt.get_text(), dt.find_next_sibling("dd").get_text(),
                 dt.find_next_sibling("dd").a["href"] if dt.find_next_sibling("dd").a else None)
                for dt in block.find("dl", class_="seller-info").find_all("dt")]
        assert rows == expected, path
        found = [(a.get_text(), a["href"]) for a in block.select(".policy-links a")]
        depth = len(path.relative_to(built).parts) - 2  # below the store's folder
        assert found == [(title, ("../" * depth or "./") + f"policies/{kind}/")
                         for title, kind in links], path
        banner = page.find(class_="test-banner")
        if info["id"] == "2999199999":
            assert banner.get_text() == ("테스트 상점입니다. 실제 카드로 결제되며, 승인된 결제는 약 "
                                         "3~5분 뒤 KSNET이 자동으로 취소합니다.")
        else:
            assert banner is None


def test_policy_pages_show_the_merchants_text_and_the_third_party_page_ours(built: Path) -> None:
    refund = soup(built / "jeju-orchard" / "policies" / "refund" / "index.html")
    assert refund.h1.get_text() == "청약철회·교환·환불"
    assert refund.find("div", class_="policy").find("h2").get_text() == "청약철회가 제한되는 경우"
    third = soup(built / "jeju-orchard" / "policies" / "third-party" / "index.html")
    terms = dict(zip([dt.get_text() for dt in third.find("dl").find_all("dt")],
                     [dd.get_text() for dd in third.find("dl").find_all("dd")]))
    assert terms["제공받는 자"].startswith("주식회사 케이에스넷(KSNET)")
    assert terms["제공 항목"] == "이름, 이메일, 휴대폰 번호, 주문번호, 상품명, 결제 금액, 결제 수단 정보"
    assert not (built / "jeju-orchard" / "policies" / "terms").exists()
    assert (built / "book-academy" / "policies" / "terms" / "index.html").is_file()
    assert not (built / "kspay-test" / "policies").exists()


def test_the_order_page_asks_for_the_agreements_and_shows_the_refund_terms(built: Path) -> None:
    page = soup(built / "jeju-orchard" / "hallabong-5kg" / "index.html")
    form = page.find("form", id="pay-form")
    boxes = form.find("fieldset", id="agreements").find_all("input", type="checkbox")
    assert [(b["id"], b.has_attr("required"), b.get("name")) for b in boxes] == [
        ("agree-all", False, None), ("agree-purchase", True, None),
        ("agree-privacy", True, None), ("agree-third-party", True, None)]
    labels = [form.find("label", attrs={"for": b["id"]}).get_text() for b in boxes]
    assert labels == ["전체 동의", "[필수] 구매조건 확인 및 결제 진행 동의",
                      "[필수] 개인정보 수집·이용 동의", "[필수] 개인정보 제3자 제공 동의 (KSNET)"]
    links = [a["href"] for a in form.find("fieldset", id="agreements").find_all("a")]
    assert links == ["../policies/refund/", "../policies/privacy/", "../policies/third-party/"]
    # The refund summary: the first paragraph of the refund text, on the page itself.
    refund = page.find("section", class_="refund")
    assert refund.find("p").get_text().startswith("상품을 받은 날부터 7일 이내에")
    assert form.find_all("input", type="checkbox")[0].find_parent("form") is form
    # The test store has no policies: no agreements, nothing in the way of KSNET's sample.
    test_page = soup(built / "kspay-test" / "carrot-10kg" / "index.html")
    assert test_page.find("fieldset", id="agreements") is None
    assert test_page.find("section", class_="refund") is None


def terms_of(page: object, hidden: bool = False) -> dict[str, str]:
    """The payment terms as shown (or, `hidden`, as the page script shows them once a
    larger quantity reaches 50,000 won)."""
    dl = page.select_one("dl.terms:not(.totals)")  # type: ignore[attr-defined]
    rows = [dt for dt in dl.find_all("dt")
            if bool(dt.find_parent("div", attrs={"hidden": True})) == hidden
            or dt.find_parent("div") is None]
    return {dt.get_text(): dt.find_next_sibling("dd").get_text() for dt in rows}


def test_interest_free_months_and_escrow_are_shown_from_what_is_posted(built: Path) -> None:
    big = soup(built / "jeju-orchard" / "hallabong-5kg" / "index.html")  # 59,000 won
    small = soup(built / "jeju-orchard" / "tangerine-10kg" / "index.html")  # 32,000 won
    academy = soup(built / "book-academy" / "python-course" / "index.html")
    assert terms_of(big)["무이자"] == "2·3개월 무이자"
    assert "무이자" not in terms_of(small)  # 35,000 won with shipping: lump sum only
    assert terms_of(small, hidden=True) == {"결제 수단": "신용카드, 가상계좌, 휴대폰",
                                            "할부": "일시불, 2, 3, 4, 5, 6개월",
                                            "무이자": "2·3개월 무이자",
                                            "가상계좌 입금 기한": "주문일로부터 3일 뒤 23:59까지"}
    assert terms_of(academy)["무이자"] == "할부 전 개월 무이자"
    assert terms_of(big)["결제 수단"] == "신용카드, 가상계좌, 휴대폰"
    escrow = ("고객님은 안전거래를 위해 현금 등으로 결제 시 저희 쇼핑몰에서 가입한 KSNET의 "
              "구매안전서비스(에스크로)를 이용하실 수 있습니다.")
    assert big.find("p", class_="escrow").get_text() == escrow
    assert academy.find("p", class_="escrow") is None
