"""Seeded synthetic merchants for the benchmarks: N sites/<slug>.yaml with Korean names.

Every merchant is a complete Korean store (seller information, refund and privacy
policies) with two products and both app variants, so N merchants make 6N order pages,
3N policy pages (refund, privacy and the third-party page) and N store pages. Other options vary (window, payment methods, installments,
interest-free months, escrow, card display) so that every code path is exercised.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from generator import seller

FAMILY = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민"
SYLLABLES = "가나다라마바사아자차카타파하한국서울제주부산대구광주인천강원경기충청전라경상해달별솔빛늘봄꽃"
GOODS = ["한라봉", "감귤", "사과", "배", "쌀", "김치", "고추장", "된장", "녹차", "커피", "원두",
         "수건", "양말", "노트", "연필", "전자책", "강의", "꿀", "버섯", "멸치", "미역", "떡"]
PAGES_PER_MERCHANT = 10
UNITS = ["1kg", "2kg", "5kg", "10kg", "세트", "선물세트", "1박스", "3개입", "10개입"]


def merchant(rng: random.Random, index: int) -> str:
    name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5))) + rng.choice(
        ["상회", "농원", "마켓", "스토어", "(주)", "몰", "공방"])
    window = rng.choice(["v1.4", "v1.4", "v1.4", "mb2"])
    methods = rng.choice([["card"], ["card"], ["card", "virtual_account"],
                          ["card", "virtual_account", "mobile"], ["card", "mobile"]])
    months = sorted({0} | set(rng.sample(range(2, 13), rng.randint(0, 6))))
    interest = rng.choice(["none", "none", "all"] + ([[months[-1]]] if len(months) > 1 else []))
    lines = [
        "store:",
        f'  id: "{2000000000 + index:010d}"',
        f"  name: {name}",
        f"  name_en: shop-{index}",
        f"  domain: https://shop{index}.example.kr",
        f"  ceo_name: {rng.choice(FAMILY)}{rng.choice(SYLLABLES)}{rng.choice(SYLLABLES)}",
        f'  phone: "02{rng.randint(10000000, 99999999)}"',
        f"  address: 서울특별시 중구 세종대로 {index % 300 + 1}",
        f'  business_number: "{business_number(index)}"',
        f"  mail_order_number: 제2025-서울중구-{index:05d}호",
        f"  email: help@shop{index}.example.kr",
        "  privacy_officer: 김보호",
        "  hosting_provider: 주식회사 예시호스팅",
        f"reply_url: https://shop{index}.example.kr/kspay/result",
        f"window: {window}",
        f"paymethods: [{', '.join(methods)}]",
        f"installments: {months}",
        f"interest_free: {interest}",
        f"escrow: {str(rng.random() < 0.3).lower()}",
        "show_cards: " + rng.choice(["{isp: true, mpi: true}", '{isp: false, mpi: ["04", "05"]}']),
        "apps:",
        "  android: true",
        f'  ios_scheme: "shop{index}://"',
        f"echo: {{ECHA: branch-{index % 97}}}",
        f"order_prefix: S{index}",
    ]
    if "mobile" in methods:
        lines.append(f"good_type: {rng.choice(['physical', 'digital'])}")
    lines += ["notice: |", f"  {name}입니다. **{rng.randint(1, 5)}일** 안에 보내 드립니다.",
              "policies:", "  refund: |",
              "    받은 날부터 **7일 이내** 전화나 전자우편으로 반품을 신청할 수 있습니다.",
              "  privacy: |", "    이름, 이메일, 휴대폰 번호를 주문 처리에 쓰고 5년 보관합니다.",
              "products:"]
    for number in range(2):
        goods = f"{rng.choice(GOODS)} {rng.choice(UNITS)}"
        lines += [f"  - slug: item-{number + 1}", f"    name: {goods}",
                  f"    amount: {rng.choice([1000, 9900, 32000, 59000, 120000, 240000])}",
                  f"    description: {goods}, 산지에서 바로 보냅니다."]
    return "\n".join(lines) + "\n"


def business_number(index: int) -> str:
    """A 사업자등록번호 that passes the check digit, different for each merchant."""
    head = f"{100000000 + index:09d}"
    return next(head + d for d in "0123456789" if seller.business_number_problem(head + d) is None)


def write_sites(folder: Path, count: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"m{index:05d}.yaml"
        path.write_text(merchant(rng, index), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write_sites(args.folder, args.count, args.seed)


if __name__ == "__main__":
    main()
