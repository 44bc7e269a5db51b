"""The commented starter file that `kspay-pages new SLUG` writes."""

STARTER = """\
# A KSPay Pages merchant file. Check it with: kspay-pages check THIS_FILE
# Every key is described in the README; byte limits count EUC-KR bytes (Hangul 2).
store:
  id: "2999199999"              # KSNET store id, 10 digits, in quotes (this is the test store)
  name: 우리가게                  # shown in the card company's window, <= 20 bytes
  name_en: our_shop              # English name, printable ASCII, <= 20 bytes
  domain: https://shop.example.kr
reply_url: https://shop.example.kr/kspay/result   # your server's result page (https)
window: v1.4                    # v1.4 (KSNET's current window) or mb2
paymethods: [card]              # card, virtual_account, mobile
installments: [0, 2, 3]         # months offered from 50,000 won; 0 = lump sum
interest_free: none             # none, all, or months such as [2, 3]
escrow: false
show_cards: all                 # every card; or {isp: true, mpi: ["04", "05"]}
order_prefix: SHOP              # 1-10 letters/digits; order numbers are made at pay time
notice: |
  주문 후 **2~3일** 안에 보내 드립니다.
products:
  - slug: first-product         # the page's address: /SLUG/first-product/
    name: 첫 상품                 # <= 30 bytes, no ' " ` ~
    amount: 12000               # won; cards need at least 1,000
    description: |
      상품 설명을 적어 주세요.
"""
