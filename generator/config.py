"""Merchant YAML -> typed, validated site model; every error as file:line:col: key: rule.

Field rules are not written here: each value is checked by `kspay.problems` for the
KSPay field it becomes, and rules that tie keys together are `kspay.config_problems`.
"""

from __future__ import annotations

import collections
import difflib
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from . import kspay, markdown_safe, safety, seller, yamlload
from .yamlload import Document, Mark

SLUG_RE = re.compile(kspay.SLUG_PATTERN)
# A merchant file is a page of YAML; a file this big is a mistake (or a bomb).
MAX_FILE_BYTES = 1_000_000
LOCAL_HOSTS = ("localhost", "127.0.0.1")
# URL schemes that run code or read local files instead of opening an app.
SCRIPT_SCHEMES = ("javascript", "vbscript", "data", "file", "about", "blob")
QUOTE_MAX = 80
POLICIES_FOLDER = "policies"  # /SLUG/policies/refund/: no product may take the name


@dataclass(frozen=True)
class ConfigError:
    """A problem at a place in a merchant file: `file:line:col: key: message`."""

    file: str
    line: int
    column: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


def quoted(value: Any) -> str:
    """repr() of a value for a message, shortened when long (a message stays one line)."""
    text = repr(value)
    if len(text) <= QUOTE_MAX:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters written"
    return f"{text[:QUOTE_MAX - 20]}... ({size})"


def _kspay_rule(field_name: str) -> AfterValidator:
    def check(value: str) -> str:
        found = kspay.problems(field_name, value)
        if found:
            message = "; ".join(found).replace(repr(value), quoted(value))
            raise PydanticCustomError("kspay", message)
        return value

    return AfterValidator(check)


def _pattern_rule(pattern: str, rule: str) -> AfterValidator:
    def check(value: str) -> str:
        if re.fullmatch(pattern, value) is None:
            raise PydanticCustomError("kspay", f"{rule}, got {quoted(value)}")
        return value

    return AfterValidator(check)


def _months(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(type(m) is int for m in value):
        raise PydanticCustomError("kspay", "expected a list of months such as [0, 2, 3]")
    for month in value:
        if month == 1 or not 0 <= month <= kspay.MAX_INSTALLMENT_MONTHS:
            raise PydanticCustomError(
                "kspay", f"month {month} is not an installment: use 0 (lump sum) or "
                f"2 to {kspay.MAX_INSTALLMENT_MONTHS}")
    duplicates = sorted(m for m, n in collections.Counter(value).items() if n > 1)
    if duplicates:
        raise PydanticCustomError("kspay", f"month {duplicates[0]} is listed twice")
    return value


def _interest_free(value: Any) -> str | list[int]:
    if value in ("none", "all"):
        return typing.cast(str, value)
    if isinstance(value, list):
        months = _months(value)
        if 0 in months:
            raise PydanticCustomError("kspay", "0 is lump sum and has no interest to waive")
        return months
    raise PydanticCustomError(
        "kspay", f"must be none, all or a list of months such as [3, 6], got {quoted(value)}")


def _mpi(value: Any) -> bool | list[str]:
    if type(value) is bool:
        return value
    if isinstance(value, list) and value and all(
            isinstance(c, str) and re.fullmatch("[0-9]{2}", c) for c in value):
        return value
    raise PydanticCustomError(
        "kspay", 'must be true, false or a list of 2-digit card codes such as ["04", "05"] '
        f"(quoted), got {quoted(value)}")


Months = Annotated[list[int], PlainValidator(_months),
                   WithJsonSchema({"type": "array", "items": {"type": "integer", "minimum": 0,
                                                               "maximum": 36}})]
InterestFree = Annotated[Any, PlainValidator(_interest_free), WithJsonSchema(
    {"anyOf": [{"enum": ["none", "all"]},
               {"type": "array", "items": {"type": "integer", "minimum": 2, "maximum": 36}}]})]
MpiCards = Annotated[Any, PlainValidator(_mpi), WithJsonSchema(
    {"anyOf": [{"type": "boolean"},
               {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{2}$"}}]})]
def _https_only(why: str) -> AfterValidator:
    def check(value: str) -> str:
        scheme, _, rest = value.partition("://")
        host = re.split("[:/?#]", rest, maxsplit=1)[0].lower()
        if scheme == "https" or host in LOCAL_HOSTS:
            return value
        raise PydanticCustomError(
            "kspay", f"must be https://: {why} (http is accepted only for localhost and "
            f"127.0.0.1), got {quoted(value)}")

    return AfterValidator(check)


_https_reply = _https_only(
    "KSPay sends the payment result to this page, over http it travels in the clear and "
    "browsers block it as mixed content from an https page")
_https_notify = _https_only("the notice carries the customer's order, over http it travels "
                            "in the clear")


def _app_scheme(value: str) -> str:
    scheme = value.split(":", 1)[0].lower()
    if scheme in SCRIPT_SCHEMES:
        raise PydanticCustomError(
            "kspay", f"{scheme}: is not an app's URL scheme (the card apps would open it), "
            f"got {quoted(value)}")
    return value


def _markdown(value: str) -> str:
    if len(value) > markdown_safe.MAX_MARKDOWN_CHARS or (
            html := markdown_safe.convert(value)) is None:
        raise PydanticCustomError("kspay", markdown_safe.markdown_problem(value) or "")
    return markdown_safe.MarkdownText(value, html)  # converted once: the pages take its HTML


Markdown = Annotated[str, AfterValidator(_markdown)]


def _business_number(value: str) -> str:
    if problem := seller.business_number_problem(value):
        raise PydanticCustomError("kspay", problem)
    return value


def _seller_text(what: str) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > seller.TEXT_MAX or not value.isprintable():
            raise PydanticCustomError("kspay", f"{what}: one line of at most {seller.TEXT_MAX} "
                                      f"characters, got {quoted(value)}")
        return value

    return AfterValidator(check)
Slug = Annotated[str, _pattern_rule(kspay.SLUG_PATTERN,
                                    "must be lower-case letters, digits and single hyphens")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Store(_Model):
    id: Annotated[str, _kspay_rule("sndStoreid")]
    name: Annotated[str, _kspay_rule("sndStoreName")]
    name_en: Annotated[str, _kspay_rule("sndStoreNameEng")] = ""
    domain: Annotated[str, _kspay_rule("sndStoreDomain")] = ""
    ceo_name: Annotated[str, _kspay_rule("sndStoreCeoName")] = ""
    phone: Annotated[str, _kspay_rule("sndStorePhoneNo"), _pattern_rule(
        seller.PHONE_PATTERN, "must be a Korean phone number, digits only, such as "
        "0212345678 or 15881234")] = ""
    address: Annotated[str, _kspay_rule("sndStoreAddress")] = ""
    business_number: Annotated[str, AfterValidator(_business_number), Field(
        description="사업자등록번호: 10 digits, hyphens optional, check digit verified")] = ""
    mail_order_number: Annotated[str, _pattern_rule(
        seller.MAIL_ORDER_PATTERN, "must read as the office issued it, such as "
        "제2025-서울강남-01234호 (year, office, number)"),
        Field(description="통신판매업 신고번호, e.g. 제2025-서울강남-01234호")] = ""
    email: Annotated[str, _pattern_rule(
        kspay.FIELD_BY_NAME["sndEmail"].pattern or "",
        "must be an e-mail address such as help@shop.example.kr"),
        Field(description="고객센터 전자우편")] = ""
    privacy_officer: Annotated[str, _seller_text("the officer's name (and contact)"), Field(
        description="개인정보 보호책임자", max_length=seller.TEXT_MAX)] = ""
    hosting_provider: Annotated[str, _seller_text("the hosting company's name"), Field(
        description="호스팅서비스 제공자", max_length=seller.TEXT_MAX)] = ""
    logo: Annotated[str, Field(description=(
        "the store's logo: a JPEG, PNG, WebP or GIF file beside the merchant file (a path "
        "from its folder); shown on the store's pages and as their favicon"))] = ""


class Policies(_Model):
    """Markdown pages under the store: /SLUG/policies/refund/ and so on."""

    refund: Annotated[Markdown, Field(description="청약철회·교환·환불 (Markdown); its first "
                                      "paragraph is shown on every order page")] = ""
    privacy: Annotated[Markdown, Field(description="개인정보 수집·이용: 항목, 목적, 보유기간 "
                                       "(Markdown)")] = ""
    terms: Annotated[Markdown, Field(description="이용약관 (Markdown)")] = ""


class ShowCards(_Model):
    isp: bool = True
    mpi: MpiCards = True


class Apps(_Model):
    android: bool = False
    ios_scheme: Annotated[str, _pattern_rule(kspay.APP_SCHEME_PATTERN,
                                             "must be an app URL scheme such as myapp://"),
                          AfterValidator(_app_scheme)] | None = None


class Product(_Model):
    slug: Slug
    name: Annotated[str, _kspay_rule("sndGoodname")]
    amount: Annotated[int, Field(ge=1, le=kspay.MAX_AMOUNT)]
    description: Markdown = ""
    image: Annotated[str, Field(description=(
        "a photo of the product: a JPEG, PNG, WebP or GIF file beside the merchant file (a "
        "path from its folder); published at 720 and 1280 px wide, its alt text the name"))] = ""


class SiteConfig(_Model):
    store: Store
    reply_url: Annotated[str, _kspay_rule("sndReply"), _https_reply]
    # Where the payments service POSTs a signed JSON notice of every final state.
    notify_url: Annotated[str, _kspay_rule("sndReply"), _https_notify,
                          Field(description="your fulfilment system's URL; the payments "
                                "service POSTs it a signed JSON notice of every final state")
                          ] | None = None
    window: Literal["v1.4", "mb2"] = "v1.4"
    currency: Literal["WON", "410"] = "WON"
    paymethods: Annotated[list[Literal["card", "virtual_account", "mobile"]],
                          Field(min_length=1)] = ["card"]
    installments: Months = [0]
    interest_free: InterestFree = "none"
    escrow: bool = False
    show_cards: ShowCards = ShowCards()
    good_type: Literal["physical", "digital"] | None = None
    apps: Apps = Apps()
    echo: dict[Annotated[str, _pattern_rule(kspay.ECHO_NAME_PATTERN,
                                            "echo names are ECH and one capital letter")],
               Annotated[str, _kspay_rule("ECH*")]] = {}
    virtual_account_days: Annotated[int, Field(
        ge=1, le=kspay.VIRTUAL_ACCOUNT_DAYS_MAX,
        description="days the customer has to pay into a virtual account; the page sends "
        "sndVirExpDt (pay date + days, until 23:59:59), the result page shows it")] | None = None
    order_prefix: Annotated[str, _pattern_rule(
        kspay.ORDER_PREFIX_PATTERN, f"must be 1 to {kspay.ORDER_PREFIX_MAX} letters or digits")
    ] = "KSPAY"
    theme: Slug = "default"
    notice: Markdown = ""
    policies: Policies = Policies()
    products: Annotated[list[Product], Field(min_length=1)]


@dataclass(frozen=True)
class Site:
    slug: str
    source: Path
    config: SiteConfig
    # Where each key was written, for errors found later (a theme that is missing).
    doc: Document | None = field(default=None, compare=False, repr=False)
    # The bytes that were validated, so that the build records exactly what it rendered.
    data: bytes = field(default=b"", compare=False, repr=False)
    # Seller information the law asks for and the file leaves out (`seller.REQUIRED`).
    warnings: tuple[ConfigError, ...] = ()

    def error(self, where: tuple[str | int, ...], message: str) -> ConfigError:
        mark = self.doc.mark(where) if self.doc else Mark(1, 1)
        return ConfigError(display_path(self.source), mark.line, mark.column,
                           key_path(where), message)


_PLAIN_KEY = re.compile(r"[^\s.\[\]'\"\\\x00-\x1f\x7f]{1,40}")


def key_path(path: tuple[str | int, ...]) -> str:
    """`products[0].name`; a key that is not plain text is quoted: `store['a b']`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part) and part.isprintable():
            text += f".{part}" if text else part
        else:
            text += f"[{quoted(part)}]"
    return text


def display_path(path: Path) -> str:
    """The path relative to the working folder when it is inside it, as given if not."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_site(path: Path) -> Site | list[ConfigError]:
    """Read and validate one merchant file; every problem found, or the site."""

    def error(mark: Mark, where: tuple[str | int, ...], message: str) -> ConfigError:
        # The path as shown is worked out for an error only: a valid file needs none.
        return ConfigError(display_path(path), mark.line, mark.column, key_path(where), message)

    slug = path.stem
    if SLUG_RE.fullmatch(slug) is None:
        return [error(Mark(1, 1), (), f"file name {path.name!r}: a site slug must be "
                      "lower-case letters, digits and single hyphens, e.g. my-shop.yaml")]
    outside = safety.symlink_outside(path, path.parent)
    if outside is not None:
        return [error(Mark(1, 1), (), f"a symlink to {outside}, outside "
                      f"{display_path(path.parent)}; keep merchant files in the sites folder")]
    try:
        if not path.is_file():
            kind = "a folder" if path.is_dir() else "not a regular file"
            return [error(Mark(1, 1), (), f"cannot read: {kind}")]
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [error(Mark(1, 1), (), f"{size:,} bytes, the limit for a merchant file "
                          f"is {MAX_FILE_BYTES:,}")]
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = exc.object[:exc.start]
        where = Mark(before.count(b"\n") + 1, exc.start - (before.rfind(b"\n") + 1) + 1)
        return [error(where, (), f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
                      "save the file as UTF-8")]
    except OSError as exc:
        return [error(Mark(1, 1), (), f"cannot read: {exc.strerror}")]
    try:
        doc = yamlload.load(text)
    except yamlload.YamlError as exc:
        return [error(exc.mark, exc.path, exc.message)]
    if not isinstance(doc.data, dict):
        return [error(Mark(1, 1), (), "the file must be a mapping of keys (store:, products:, ...)")]
    unpublishable = safety.config_problems(doc)
    found = [error(mark, where, message) for where, mark, message in unpublishable]
    hidden = [where for where, _, _ in unpublishable]  # not validated, never quoted
    try:
        config = SiteConfig.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            mark, where, message = _locate(doc, err)
            if not any(where[:len(h)] == h for h in hidden):
                found.append(error(mark, where, message))
        return sorted(found, key=lambda e: (e.line, e.column))
    if found:
        return sorted(found, key=lambda e: (e.line, e.column))
    problems = [error(doc.mark(where), where, message) for where, message in
                kspay.config_problems(config, lambda where: doc.mark(where).line)]
    problems += [error(doc.mark(where), where, message)
                 for where, message in _reserved_slugs(config)]
    if problems:
        return problems
    warnings = tuple(
        error(doc.mark(where[:1], key=True), where[:1],
              f"no {where[1]} ({label}), which a Korean online store must show")
        for where, label in seller.missing(config))
    return Site(slug, path, config, doc, data, warnings)


def _reserved_slugs(config: SiteConfig) -> list[tuple[tuple[str | int, ...], str]]:
    return [(("products", i, "slug"), f"{product.slug!r} is the folder of the store's "
             "policy pages; choose another slug")
            for i, product in enumerate(config.products) if product.slug == POLICIES_FOLDER]


# --- pydantic errors -> messages for people -------------------------------------------

def _got(doc: Document, where: tuple[str | int, ...], value: Any) -> str:
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing (null)"
    kind = "true/false" if isinstance(value, bool) else "the number"
    return f"{kind} {doc.scalar_text.get(where, repr(value))}"


_EXPECTED = {"int_type": "a whole number", "int_from_float": "a whole number",
             "bool_type": "true or false", "list_type": "a list",
             "dict_type": "a mapping of keys", "model_type": "a mapping of keys"}


def _locate(doc: Document, err: Any) -> tuple[Mark, tuple[str | int, ...], str]:
    loc = err["loc"]
    where = tuple(p for p in loc if isinstance(p, int) or p in _known_keys(loc))
    kind, value = err["type"], err.get("input")
    if loc and loc[-1] == "[key]":
        return doc.mark(where, key=True), where, err["msg"]
    if kind == "missing":
        return doc.mark(where[:-1]), where, "required key is missing"
    if kind == "extra_forbidden":
        return doc.mark(where, key=True), where, _unknown_key(where)
    if kind == "string_type":
        hint = f'; put it in quotes: "{doc.scalar_text.get(where, value)}"' \
            if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
        message = f"expected text, got {_got(doc, where, value)}{hint}"
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {_got(doc, where, value)}"
    elif kind == "literal_error":
        message = f"must be {err['ctx']['expected']}, got {_got(doc, where, value)}"
    elif kind == "too_short":
        message = "needs at least one entry"
    elif kind in ("greater_than_equal", "less_than_equal") and where[-1] == "amount":
        message = (f"{value} is out of range: KSPay amounts are 1 to "
                   f"{kspay.MAX_AMOUNT:,} won ({len(str(kspay.MAX_AMOUNT))} digits)")
    elif kind == "greater_than_equal":
        message = f"must be at least {err['ctx']['ge']}, got {_got(doc, where, value)}"
    elif kind == "less_than_equal":
        message = f"must be at most {err['ctx']['le']}, got {_got(doc, where, value)}"
    else:
        message = err["msg"]
    return doc.mark(where), where, message


def _known_keys(loc: tuple[Any, ...]) -> set[str]:
    """Strings in a pydantic loc that are real keys (not union tags or dict-key markers)."""
    return {p for p in loc if isinstance(p, str)
            and not p.startswith(("literal[", "function-", "[key]"))}


def _model_at(where: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: Any = SiteConfig
    for part in where[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        annotation = model.model_fields[part].annotation
        model = _unwrap_model(annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap_model(annotation: Any) -> Any:
    """The model inside `list[Product]`, `Apps | None` and the like."""
    if isinstance(annotation, type) and not typing.get_args(annotation) \
            and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        inner = _unwrap_model(arg)
        if inner is not None:
            return inner
    return None


def _unknown_key(where: tuple[str | int, ...]) -> str:
    model = _model_at(where)
    allowed = sorted(model.model_fields) if model else []
    unknown = str(where[-1]) if where else ""
    close = difflib.get_close_matches(unknown, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint} (allowed here: {', '.join(allowed)})"


def load_sites(paths: list[Path]) -> tuple[list[Site], list[ConfigError]]:
    sites: list[Site] = []
    errors: list[ConfigError] = []
    for path in paths:
        loaded = load_site(path)
        if isinstance(loaded, Site):
            sites.append(loaded)
        else:
            errors.extend(loaded)
    return sites, errors


def json_schema() -> dict[str, Any]:
    schema = SiteConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "KSPay Pages merchant config"
    return schema
