"""The same pages from Hugo: how the full build compares with a fast, well-known generator.

    python bench/hugo.py --sites 10000 --runs 3

Writes N synthetic merchants (bench/synth.py) and, from the very models the build
reads, a Hugo project with one content file per page the build writes: a store page
per merchant (a section), its policy pages, and an order page per product and app
variant (with the same hidden fields, customer inputs and description, converted by
Hugo's Markdown), each with the seller block, laid out by templates shaped like the
default theme's. Then times, as whole
processes and paired (Hugo, then the build, each into a fresh folder), `hugo` and
`python build.py build`. Both are cold: no output and, for Hugo, no resources cache.
Needs Debian's `hugo` (apt-get install hugo).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from synth import write_sites  # noqa: E402

from generator import kspay, seller  # noqa: E402
from generator.config import Site, load_site  # noqa: E402
from generator.form import customer_inputs, hidden_fields, variants  # noqa: E402

CONFIG = {
    "baseURL": "/", "languageCode": "ko", "title": "KSPay Pages",
    "disableKinds": ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"],
    "markup": {"goldmark": {"renderer": {"unsafe": False}}},
}

BASEOF = """<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action {{ .Params.action | default "'none'" }}; base-uri 'none'">
<meta name="referrer" content="strict-origin-when-cross-origin">
<title>{{ block "title" . }}{{ .Title }}{{ end }}</title>
<link rel="stylesheet" href="/static/style.css">
{{ block "head" . }}{{ end }}
</head>
<body>
<a class="skip" href="#main">본문으로 건너뛰기</a>
<header class="top">{{ block "header" . }}{{ end }}</header>
<main id="main">
{{ block "main" . }}{{ end }}
</main>
<footer class="bottom">{{ with .Params.seller }}<section class="seller"><h2>판매자 정보</h2><dl class="seller-info">
{{ range . }}<div><dt>{{ index . 0 }}</dt><dd>{{ with index . 2 }}<a href="{{ . | safeURL }}">{{ end }}{{ index . 1 }}{{ with index . 2 }}</a>{{ end }}</dd></div>
{{ end }}</dl></section>{{ end }}<p>결제는 KSNET KSPay 결제창에서 진행됩니다.</p></footer>
</body>
</html>
"""

POLICY = """{{ define "header" }}<p class="brand"><a href="{{ .Parent.RelPermalink }}">{{ .Params.store }}</a></p>{{ end }}
{{ define "main" }}
<h1>{{ .Title }}</h1>
<div class="policy">{{ .Content }}</div>
{{ end }}
"""

SINGLE = """{{ define "title" }}{{ .Title }} 주문 · {{ .Params.store }}{{ end }}
{{ define "head" }}<script src="/static/order.js" defer></script>{{ end }}
{{ define "header" }}<p class="brand"><a href="{{ .Parent.RelPermalink }}">{{ .Params.store }}</a></p>{{ end }}
{{ define "main" }}
<h1>{{ .Title }}</h1>
<p class="price"><span class="visually-hidden">결제 금액 </span>{{ lang.FormatNumberCustom 0 .Params.amount }}원</p>
{{ with .Content }}<div class="description">{{ . }}</div>{{ end }}
<dl class="terms">
  <dt>결제 수단</dt><dd>{{ delimit .Params.paymethods ", " }}</dd>
  <dt>할부</dt><dd>{{ .Params.installments }}</dd>
</dl>
<form id="pay-form" class="pay" method="post" action="{{ .Params.action }}" novalidate data-reply="{{ .Params.reply }}" data-order-prefix="{{ .Params.prefix }}">
{{ range .Params.fields }}  <input type="hidden" name="{{ index . 0 }}" value="{{ index . 1 }}">
{{ end }}{{ partial "customer.html" site.Data.inputs }}
  <button type="submit" class="pay-button" disabled>{{ lang.FormatNumberCustom 0 .Params.amount }}원 결제하기</button>
  <noscript><p class="error">결제하려면 브라우저에서 JavaScript를 켜 주세요.</p></noscript>
</form>
{{ end }}
"""

CUSTOMER = """  <fieldset>
    <legend>주문하는 분</legend>
{{ range . }}    <div class="field">
      <label for="{{ .name }}">{{ .label }}{{ if .required }} <span class="req">(필수)</span>{{ end }}</label>
      <input id="{{ .name }}" name="{{ .name }}" type="{{ .input_type }}" inputmode="{{ .inputmode }}" autocomplete="{{ .autocomplete }}"{{ if .required }} required{{ end }} data-max-bytes="{{ .max_bytes }}" placeholder="{{ .placeholder }}" aria-describedby="{{ .name }}-help {{ .name }}-error">
      <p class="help" id="{{ .name }}-help">{{ .help }}</p>
      <p class="error" id="{{ .name }}-error" aria-live="polite"></p>
    </div>
{{ end }}  </fieldset>
"""

LIST = """{{ define "header" }}<p class="brand"><a href="/">상점 목록</a></p>{{ end }}
{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ with .Content }}<section class="notice"><h2>공지</h2>{{ . }}</section>{{ end }}
<h2>상품</h2>
<ul class="cards products">
{{ range .Pages }}{{ if eq .Params.variant "web" }}  <li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <span class="price">{{ lang.FormatNumberCustom 0 .Params.amount }}원</span></li>
{{ end }}{{ end }}</ul>
<address class="store-info">{{ .Title }}{{ with .Params.ceo }}<br>대표 {{ . }}{{ end }}{{ with .Params.address }}<br>{{ . }}{{ end }}</address>
{{ end }}
"""

HOME = """{{ define "main" }}
<h1>상점 목록</h1>
<ul class="cards">
{{ range .Sections }}  <li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{ end }}</ul>
{{ end }}
"""


def front(data: dict, body: str) -> str:
    """A content file: JSON front matter (Hugo reads it), then the Markdown body."""
    return json.dumps(data, ensure_ascii=False) + "\n\n" + body


def write_project(sites: Path, project: Path) -> int:
    """The Hugo project for the merchants in `sites`; the number of pages it makes."""
    layouts = project / "layouts"
    for relpath, text in {"_default/baseof.html": BASEOF, "_default/single.html": SINGLE,
                          "_default/list.html": LIST, "index.html": HOME,
                          "policy/single.html": POLICY,
                          "partials/customer.html": CUSTOMER}.items():
        (layouts / relpath).parent.mkdir(parents=True, exist_ok=True)
        (layouts / relpath).write_text(text, encoding="utf-8")
    (project / "config.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    (project / "data").mkdir()
    (project / "data" / "inputs.json").write_text(json.dumps(
        [vars(i) for i in customer_inputs()], ensure_ascii=False), encoding="utf-8")
    pages = 1  # the home page
    for path in sorted(sites.glob("*.yaml")):
        site = load_site(path)
        assert isinstance(site, Site), site
        config = site.config
        folder = project / "content" / site.slug
        folder.mkdir(parents=True)
        store = config.store
        footer = seller.footer(config)
        (folder / "_index.md").write_text(front(
            {"title": store.name, "ceo": store.ceo_name, "address": store.address,
             "seller": footer}, str(config.notice)), encoding="utf-8")
        pages += 1
        for kind, title in seller.policy_pages(config):
            body = getattr(config.policies, kind, "") if kind != seller.THIRD_PARTY else \
                "결제를 위해 주식회사 케이에스넷(KSNET)에 개인정보를 제공합니다."
            (folder / f"policy-{kind}.md").write_text(front(
                {"title": title, "store": store.name, "type": "policy", "seller": footer},
                str(body)), encoding="utf-8")
            pages += 1
        window = kspay.WINDOWS[config.window]
        for product in config.products:
            reply = kspay.reply_for_product(config.reply_url, site.slug, product.slug)
            for variant in variants(config):
                data = {"title": product.name, "store": store.name, "amount": product.amount,
                        "seller": footer,
                        "variant": variant.key, "action": window.action, "reply": reply,
                        "prefix": config.order_prefix,
                        "paymethods": [kspay.PAYMETHOD_LABELS[m] for m in config.paymethods],
                        "installments": kspay.installment_string(config.installments,
                                                                 product.amount),
                        "fields": hidden_fields(config, product, variant, reply)}
                name = f"{product.slug}-{variant.key}.md"
                (folder / name).write_text(front(data, str(product.description)),
                                           encoding="utf-8")
                pages += 1
    return pages


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{done.stdout}\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("hugo") is None:
        raise SystemExit("hugo not found: apt-get install hugo")
    with tempfile.TemporaryDirectory(prefix="kspay-hugo-", dir=ROOT.parent) as tmp:
        work = Path(tmp)
        sites, project = work / "sites", work / "hugo"
        write_sites(sites, args.sites)
        pages = write_project(sites, project)
        hugo_s, ours_s = [], []
        for run in range(args.runs):
            hugo_s.append(timed(["hugo", "--quiet", "--destination", str(work / f"public{run}"),
                                 "--cacheDir", str(work / f"cache{run}")], project))
            ours_s.append(timed([sys.executable, str(ROOT / "build.py"), "build", "--sites",
                                 str(sites), "--out", str(work / f"_site{run}")], ROOT))
        hugo, ours = statistics.median(hugo_s), statistics.median(ours_s)
        print(f"{args.sites:,} merchants, {pages:,} Hugo pages; median of {args.runs} paired runs")
        print(f"hugo {hugo:.2f} s, kspay-pages {ours:.2f} s: "
              f"kspay-pages is {hugo / ours:.2f}x Hugo's speed")


if __name__ == "__main__":
    main()
