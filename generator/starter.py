"""The commented starter file that `kspay-pages new SLUG` writes."""

STARTER = """\
# A KSPay Pages merchant file. Check it with: kspay-pages check THIS_FILE
# Every key is described in the README; byte limits count EUC-KR bytes (Hangul 2).
store:
  id: "2999199999"              # KSNET store id, 10 digits, in quotes (this is the test store)
  name: 우리가게                  # shown in the card company's window, <= 20 bytes
  name_en: our_shop              # English name, printable ASCII, <= 20 bytes
  domain: https://shop.example.kr
  ceo_name: 홍길동                # the seller information a Korean online store must show:
  phone: "0212345678"           # digits only, shown as 02-1234-5678
  address: 서울특별시 강남구 테헤란로 1
  business_number: "123-45-67891"          # 사업자등록번호 (check digit verified)
  mail_order_number: 제2025-서울강남-01234호   # 통신판매업 신고번호
  email: help@shop.example.kr
  privacy_officer: 홍길동          # 개인정보 보호책임자
  hosting_provider: 주식회사 예시호스팅  # 호스팅서비스 제공자
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
policies:                       # Markdown pages under /SLUG/policies/; customers agree before paying
  refund: |                     # the first paragraph is shown on every order page
    상품을 받은 날부터 **7일 이내**에 전화나 전자우편으로 청약철회(반품)를 신청할 수 있습니다.
  privacy: |
    주문 처리를 위해 이름, 이메일, 휴대폰 번호를 수집·이용하며, 관계 법령에 따라 5년 보관합니다.
products:
  - slug: first-product         # the page's address: /SLUG/first-product/
    name: 첫 상품                 # <= 30 bytes, no ' " ` ~
    amount: 12000               # won; cards need at least 1,000
    description: |
      상품 설명을 적어 주세요.
"""
