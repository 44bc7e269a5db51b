"""The example sites, built and parsed: every hidden field of every order page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import SITES, form_values, soup
from generator import kspay

V14 = "https://kspay.ksnet.to/store/KSPayMobileV1.4/KSPayPWeb.jsp"
MB2 = "https://kspay.ksnet.to/store/mb2/KSPayPWeb.jsp"

# KSNET's mobile sample field set, in its order (DESIGN.md section 5).
SAMPLE_FIELDS = [
    "sndPaymethod", "sndStoreid", "sndCurrencytype", "sndOrdernumber", "sndAllregid",
    "sndInstallmenttype", "sndInteresttype", "sndShowcard", "sndGoodname", "sndAmount",
    "sndReply", "sndEscrow", "sndVirExpDt", "sndVirExpTm", "sndStoreName", "sndStoreNameEng",
    "sndStoreDomain", "sndGoodType", "sndUseBonusPoint", "sndRtApp", "sndStoreCeoName",
    "sndStorePhoneNo", "sndStoreAddress",
]


def test_seed_test_store_order_page_matches_the_guide(built: Path) -> None:
    page = soup(built / "kspay-test" / "carrot-10kg" / "index.html")
    form = page.find("form", id="pay-form")
    assert form["action"] == V14
    assert form["method"] == "post"
    assert form.get("accept-charset") is None
    assert form_values(page) == {
        "sndPaymethod": "1000000000", "sndStoreid": "2999199999", "sndCurrencytype": "WON",
        "sndOrdernumber": "", "sndAllregid": "", "sndInstallmenttype": "0",
        "sndInteresttype": "NONE", "sndShowcard": "I,M", "sndGoodname": "당근10kg",
        "sndAmount": "1003",
        "sndReply": "https://shop.example.kr/kspay/result?site=kspay-test&product=carrot-10kg",
        "sndEscrow": "0", "sndVirExpDt": "", "sndVirExpTm": "",
        "sndStoreName": "케이에스페이(주)", "sndStoreNameEng": "kspay_test_store",
        "sndStoreDomain": "http://www.kspay_test.co.kr", "sndGoodType": "",
        "sndUseBonusPoint": "", "sndRtApp": "", "sndStoreCeoName": "", "sndStorePhoneNo": "",
        "sndStoreAddress": "", "sndCharSet": "utf-8",
        "ECHA": "추가파라미터A", "ECHB": "추가파라미터B", "ECHC": "추가파라미터C",
    }
    # The payments service reads the merchant and product from sndReply's query; the
    # page script adds &ordno=<order number> when the customer taps Pay.
    assert form["data-reply"] == "https://shop.example.kr/kspay/result?site=kspay-test&product=carrot-10kg"
    assert form["data-order-prefix"] == "KSPay"
    terms = [dd.get_text() for dd in page.select("dl.terms dd")]
    assert terms == ["신용카드", "일시불 (50,000원 이상부터 할부)"]


def test_installments_from_fifty_thousand_won_and_app_variants(built: Path) -> None:
    folder = built / "jeju-orchard" / "hallabong-5kg"
    assert sorted(p.name for p in folder.iterdir()) == ["android.html", "index.html", "ios.html"]
    expected_rtapp = {"index.html": "", "android.html": "android", "ios.html": "jejuorchard://"}
    for name, rtapp in expected_rtapp.items():
        values = form_values(soup(folder / name))
        assert values["sndRtApp"] == rtapp
        assert values["sndPaymethod"] == "1100010000"
        assert values["sndInstallmenttype"] == "0:2:3:4:5:6"
        assert values["sndInteresttype"] == "2:3"
        assert values["sndEscrow"] == "1"
        assert values["sndGoodType"] == "1"
        assert values["sndAmount"] == "59000"
        assert values["sndStoreCeoName"] == "고한라"
        assert values["sndStorePhoneNo"] == "0647250000"
        assert values["sndStoreAddress"] == "제주특별자치도 서귀포시 남원읍"
        assert values["ECHA"] == "app-store"
        assert values["ECH_SHIP"] == "0"  # 59,000 won of goods: free from 50,000
    # 32,000 won + 3,000 shipping: below 50,000, lump sum only (until the quantity grows).
    cheap = form_values(soup(built / "jeju-orchard" / "tangerine-10kg" / "ios.html"))
    assert (cheap["sndInstallmenttype"], cheap["sndInteresttype"], cheap["sndAmount"],
            cheap["ECH_SHIP"]) == ("0", "NONE", "35000", "3000")


def test_mb2_window_posts_euc_kr_without_charset_field(built: Path) -> None:
    page = soup(built / "book-academy" / "python-course" / "index.html")
    form = page.find("form", id="pay-form")
    assert form["action"] == MB2
    assert form["accept-charset"] == ["EUC-KR"]
    values = form_values(page)
    assert "sndCharSet" not in values
    assert (values["sndPaymethod"], values["sndCurrencytype"], values["sndShowcard"],
            values["sndInstallmenttype"], values["sndInteresttype"], values["sndGoodType"]) == (
        "1000010000", "410", "M(04,05)", "0:2:3:6:10:12", "ALL", "2")
    assert not (built / "book-academy" / "python-course" / "android.html").exists()


@pytest.mark.parametrize(("window", "show_cards", "expected"), [
    ("v1.4", None, "C"), ("v1.4", "all", "C"), ("v1.4", "{isp: true, mpi: true}", "I,M"),
    ("v1.4", '{isp: false, mpi: ["04", "05"]}', "M(04,05)"),
    ("mb2", None, "I,M"), ("mb2", "all", "I,M"), ("mb2", "{isp: true, mpi: false}", "I"),
])
def test_showcard_follows_ksnets_v14_sample_unless_show_cards_is_set(
        tmp_path: Path, window: str, show_cards: str | None, expected: str) -> None:
    from conftest import VALID
    from generator import pipeline

    sites = tmp_path / "sites"
    sites.mkdir()
    text = VALID + f"window: {window}\n" + (f"show_cards: {show_cards}\n" if show_cards else "")
    (sites / "shop.yaml").write_text(text, encoding="utf-8")
    pipeline.build(sites, tmp_path / "_site")
    page = soup(tmp_path / "_site" / "shop" / "carrot-10kg" / "index.html")
    assert form_values(page)["sndShowcard"] == expected


def expected_fields(config: dict, slug: str, product: dict, rtapp: str) -> dict[str, str]:
    """The hidden fields as DESIGN.md describes them, worked out here from the raw YAML."""
    store = config["store"]
    reply = config["reply_url"]
    reply += ("&" if "?" in reply else "?") + f"site={slug}&product={product['slug']}"
    methods = config.get("paymethods", ["card"])
    bits = "".join("1" if any(kspay.PAYMETHOD_POSITIONS[m] == i for m in methods) else "0"
                   for i in range(1, 11))
    months = config.get("installments", [0])
    interest = config.get("interest_free", "none")
    # One of the product, and the store's shipping fee unless the goods reach free_from.
    shipping = config.get("shipping") if product.get("shipping", True) else None
    fee = 0
    if shipping and product["amount"] < shipping.get("free_from", float("inf")):
        fee = shipping.get("fee", 0)
    total = product["amount"] + fee
    big = total >= 50_000
    cards = config.get("show_cards")
    if cards in (None, "all"):  # every card: C on V1.4 (KSNET's V1.4 sample), I,M on mb2
        showcard = "C" if config.get("window", "v1.4") == "v1.4" else "I,M"
    else:
        isp, mpi = cards.get("isp", True), cards.get("mpi", True)
        showcard = ",".join((["I"] if isp else []) + (["M"] if mpi is True else
                                                      [f"M({','.join(mpi)})"] if mpi else []))
    fields = {
        "sndPaymethod": bits, "sndStoreid": store["id"],
        "sndCurrencytype": config.get("currency", "WON"), "sndOrdernumber": "",
        "sndAllregid": "",
        "sndInstallmenttype": ":".join(map(str, sorted(months))) if big else "0",
        "sndInteresttype": (interest.upper() if isinstance(interest, str)
                            else ":".join(map(str, sorted(interest)))) if big else "NONE",
        "sndShowcard": showcard, "sndGoodname": product["name"],
        "sndAmount": str(total), "sndReply": reply,
        "sndEscrow": "1" if config.get("escrow") else "0", "sndVirExpDt": "", "sndVirExpTm": "",
        "sndStoreName": store["name"], "sndStoreNameEng": store.get("name_en", ""),
        "sndStoreDomain": store.get("domain", ""),
        "sndGoodType": {"physical": "1", "digital": "2", None: ""}[config.get("good_type")],
        "sndUseBonusPoint": "", "sndRtApp": rtapp,
        "sndStoreCeoName": store.get("ceo_name", ""), "sndStorePhoneNo": store.get("phone", ""),
        "sndStoreAddress": store.get("address", ""),
    }
    if config.get("window", "v1.4") == "v1.4":
        fields["sndCharSet"] = "utf-8"
    if shipping is not None:
        fields["ECH_SHIP"] = str(fee)
    fields.update(config.get("echo", {}))
    return fields


@pytest.mark.parametrize("site_file", sorted(SITES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_order_page_of_every_example(built: Path, site_file: Path) -> None:
    config = yaml.safe_load(site_file.read_text(encoding="utf-8"))
    apps = config.get("apps", {})
    variants = {"index.html": ""}
    if apps.get("android"):
        variants["android.html"] = "android"
    if apps.get("ios_scheme"):
        variants["ios.html"] = apps["ios_scheme"]
    for product in config["products"]:
        folder = built / site_file.stem / product["slug"]
        assert sorted(p.name for p in folder.iterdir()) == sorted(variants)
        for filename, rtapp in variants.items():
            page = soup(folder / filename)
            form = page.find("form", id="pay-form")
            assert form["action"] == (MB2 if config.get("window") == "mb2" else V14)
            names = [i["name"] for i in form.find_all("input") if i["type"] == "hidden"]
            assert names[: len(SAMPLE_FIELDS)] == SAMPLE_FIELDS
            assert form_values(page) == expected_fields(config, site_file.stem, product, rtapp)
            assert all(i.get("value", "") == "" for i in page.find_all("input", attrs={"name": "sndAllregid"}))


def test_customer_inputs_carry_the_kspay_limits(built: Path) -> None:
    page = soup(built / "kspay-test" / "carrot-10kg" / "index.html")
    name = page.find("input", id="sndOrdername")
    assert (name["name"], name["maxlength"], name.has_attr("required")) == (
        "sndOrdername", "20", True)
    email = page.find("input", id="sndEmail")
    assert (email["type"], email["maxlength"], email.has_attr("required")) == ("email", "50", False)
    mobile = page.find("input", id="sndMobile")
    # No maxlength: the hyphens typed are removed before the 20-digit rule applies.
    assert (mobile["type"], mobile.get("maxlength"), mobile.has_attr("required")) == (
        "tel", None, False)
    for field in (name, email, mobile):
        label = page.find("label", attrs={"for": field["id"]})
        assert label is not None and label.get_text(strip=True)
        for described in field["aria-describedby"].split():
            assert page.find(id=described) is not None


def test_order_page_loads_only_its_own_assets(built: Path) -> None:
    page_path = built / "jeju-orchard" / "hallabong-5kg" / "index.html"
    page = soup(page_path)
    urls = [t.get("src") or t.get("href") for t in page.find_all(["script", "link", "img"])]
    urls += [u.split()[0] for t in page.find_all("img", srcset=True) for u in t["srcset"].split(",")]
    # The theme's files, and the store's logo and the product's photo from its own folder.
    assert all(u.startswith(("../../static/", "../../jeju-orchard/_images/")) for u in urls), urls
    assert len([u for u in urls if "/_images/" in u]) == 5  # favicon, logo, photo, srcset x2
    for url in urls:
        assert (page_path.parent / url).resolve().is_file()
    assert all(s.get("src") for s in page.find_all("script")), "no inline script"
    assert not [t for t in page.find_all(True) if any(a.startswith("on") for a in t.attrs)]
    # Every order page, with the seller block, the agreements, the quantity and the
    # address, stays under 10 KB of HTML.
    sizes = {str(p.relative_to(built)): p.stat().st_size
             for p in built.glob("*/*/*.html") if p.parts[-3] not in ("reference", "policies")}
    assert len(sizes) == 12 and max(sizes.values()) < 10_000, sizes
    csp = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    assert "form-action https://kspay.ksnet.to" in csp
    assert "script-src 'self'" in csp


def test_script_embeds_the_rules_of_kspay_py(built: Path) -> None:
    import json
    page = soup(built / "kspay-test" / "carrot-10kg" / "index.html")
    script = page.find("script")["src"]
    text = (built / "kspay-test" / "carrot-10kg" / script).read_text(encoding="utf-8")
    match = re.search(r"var RULES = (\{.*?\});\n", text)
    assert match is not None
    assert json.loads(match.group(1)) == kspay.customer_rules()


def test_store_page_lists_products_and_renders_notice(built: Path) -> None:
    page = soup(built / "jeju-orchard" / "index.html")
    assert page.find("h1").get_text() == "제주한라봉농원"
    links = [(a.get_text(), a["href"]) for a in page.select("ul.products a")]
    assert links == [("한라봉 5kg 선물세트", "./hallabong-5kg/"),
                     ("노지 감귤 10kg", "./tangerine-10kg/"),
                     ("한라봉 10kg 가정용", "./hallabong-10kg/")]
    assert [p.get_text() for p in page.select("ul.products .price")] == ["59,000원", "32,000원", "89,000원"]
    notice = page.find("section", class_="notice")
    assert notice.find("strong").get_text() == "다음 날"
    assert [li.get_text() for li in notice.find_all("li")][0] == "가상계좌는 발급 후 3일 안에 입금해 주세요."


def test_directory_links_every_store(built: Path) -> None:
    page = soup(built / "index.html")
    links = [(a.get_text(), a["href"]) for a in page.select("ul.cards a")]
    assert links == [("한빛온라인아카데미", "./book-academy/"), ("제주한라봉농원", "./jeju-orchard/"),
                     ("케이에스페이(주)", "./kspay-test/")]


def test_rebuild_rewrites_nothing_unchanged(tmp_path: Path) -> None:
    from generator import pipeline
    out = tmp_path / "_site"
    first = pipeline.build(SITES, out)
    inodes = {p: p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    second = pipeline.build(SITES, out)
    assert (second.rebuilt, second.pages, second.written) == (0, 0, 0)
    assert first.pages == 30
    forced = pipeline.build(SITES, out, force=True)
    assert (forced.pages, forced.written) == (30, 0)
    assert forced.kept == first.written
    assert {p: p.stat().st_ino for p in out.rglob("*") if p.is_file()} == inodes


def test_a_form_kspay_would_refuse_stops_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last guard: were the config checks to miss a case, no such page is written."""
    from generator import form, pages, pipeline
    from generator.config import display_path

    real = form.hidden_fields

    def broken(*args, **kwargs):  # a bug that drops the goods name's limit
        return [(n, "가" * 16 if n == "sndGoodname" else v) for n, v in real(*args, **kwargs)]

    monkeypatch.setattr(pages, "hidden_fields", broken)
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(SITES, tmp_path / "_site")
    assert failed.value.errors[0] == (
        f"{display_path(SITES / 'book-academy.yaml')}:41:5: products[0]: the order form would "
        "be refused by KSPay: sndGoodname: 32 bytes in EUC-KR, the limit is 30")
    assert not (tmp_path / "_site").exists()
    # `check` runs the same guard: what it accepts, the build accepts.
    assert failed.value.errors[0] in pipeline.check([SITES])[0]


@pytest.mark.parametrize(("field", "value", "rule"), [
    ("sndGoodname", "가" * 16, "32 bytes in EUC-KR, the limit is 30"),
    ("sndInstallmenttype", "0:2:3:4:5:6:7:8:9:10:11:12:13:14",
     "32 bytes in EUC-KR, the limit is 30"),
    ("sndPaymethod", "0010000000", "sndPaymethod 0010000000 sets position(s) [3]; the "
     "smartphone window takes only card (1), virtual account (2) and mobile (6)"),
    ("sndGoodType", "", "mobile payment needs sndGoodType (1 physical, 2 digital)"),
    ("sndReply", "", "without sndReply KSPay cannot call the result page and the payment fails"),
    ("sndInteresttype", "7", "interest-free months [7] are not among the installments "
     "'0:2:3'"),
])
def test_every_last_guard_message_names_the_field(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str, value: str, rule: str) -> None:
    from conftest import VALID
    from generator import form, pages, pipeline

    real = form.hidden_fields
    monkeypatch.setattr(pages, "hidden_fields", lambda *args, **kwargs: [
        (n, value if n == field else v) for n, v in real(*args, **kwargs)])
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "shop.yaml").write_text(
        VALID.replace("amount: 1003", "amount: 60000")
        + "paymethods: [card, mobile]\ngood_type: physical\ninstallments: [0, 2, 3]\n",
        encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site")
    assert failed.value.errors == [
        f"{sites}/shop.yaml:6:5: products[0]: the order form would be refused by KSPay: "
        f"{field}: {rule}"]


def test_every_page_names_its_icon_and_the_file_is_published(built: Path) -> None:
    """Without <link rel=icon> a browser asks for /favicon.ico, a 404 on every page."""
    pages = sorted(built.rglob("*.html"))
    assert len(pages) > 20
    for path in pages:
        [icon] = soup(path).find_all("link", rel="icon")
        target = (path.parent / icon["href"]).resolve()
        if path.relative_to(built).parts[0] == "jeju-orchard":  # its logo, 64 x 64
            assert icon["type"] == "image/png"
            assert target.is_relative_to(built / "jeju-orchard" / "_images"), path
            assert target.read_bytes().startswith(b"\x89PNG")
            continue
        assert icon["type"] == "image/svg+xml"
        assert target.is_file() and target.is_relative_to(built / "static"), path
        assert target.read_bytes().startswith(b"<svg xmlns=\"http://www.w3.org/2000/svg\"")


def test_required_inputs_carry_no_redundant_aria_required(built: Path) -> None:
    """The Nu checker warns on aria-required beside required: required says it."""
    page = soup(built / "kspay-test" / "carrot-10kg" / "index.html")
    required = page.find_all("input", required=True)
    assert [i["name"] for i in required] == ["sndOrdername"]
    assert page.find_all(attrs={"aria-required": True}) == []
