"""Every YAML file the generator reads: merchant files (`load`) and its own (`load_plain`).

PyYAML's constructors forget node positions and silently keep the last of two
duplicate keys; merchants need both reported. So a merchant file is composed into
nodes (C parser when present) and walked here, recording a mark for each key path.
The generator's own files (reference data, theme.yaml) are read plainly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

Path = tuple[str | int, ...]
# A merchant file holds a few hundred values; far more means an alias bomb.
MAX_VALUES = 100_000
# The deepest real key is three levels down (products[0].name); libyaml's composer
# recurses in C and crashes the interpreter somewhere past 10,000 levels, so depth is
# checked on the event stream (iterative) before anything is composed.
MAX_DEPTH = 32
DEPTH_MESSAGE = f"nested more than {MAX_DEPTH} levels deep; a merchant file needs three or four"
# Each level of nesting takes at least one character, so a shorter text cannot nest deep
# enough to hurt the composer (the walker still stops at MAX_DEPTH): only longer texts
# are pre-scanned, which real merchant files never need.
PRESCAN_FROM_CHARS = 2_000
_INT_TAG = "tag:yaml.org,2002:int"
_NUMBER_TAGS = {_INT_TAG, "tag:yaml.org,2002:float"}
MAX_NUMBER_CHARS = 100
# The one way of writing an integer that YAML 1.1 (PyYAML) and YAML 1.2 read alike. YAML 1.1
# also reads 010 as octal 8, 1:00 as base-60 60, 0b10, 0x10 and 1_0: each is refused, so that
# no page carries a number other than the one the merchant meant (`_integer_problem`).
PLAIN_INTEGER = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_YAML12_INTEGER = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_SEQUENCE_TAG = "tag:yaml.org,2002:seq"
_STR_TAG = "tag:yaml.org,2002:str"
_MAPPING_TAG = "tag:yaml.org,2002:map"
_SCALAR_TAGS = {
    _STR_TAG,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Document:
    data: Any
    value_marks: dict[Path, Mark] = field(default_factory=dict)
    # Scalars as written, so that an error can quote `0215446030`, not 37112856.
    scalar_text: dict[Path, str] = field(default_factory=dict)
    key_marks: dict[Path, Mark] = field(default_factory=dict)
    # Values that cannot be read as written (a tag that does not fit its value, a number
    # YAML 1.1 and 1.2 read differently): reported with the file's other errors.
    problems: list[tuple[Path, Mark, str]] = field(default_factory=list)

    def mark(self, path: Path, *, key: bool = False) -> Mark:
        """The mark of the longest known prefix of `path` (key or value position)."""
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if key and prefix in self.key_marks:
                return self.key_marks[prefix]
            if prefix in self.value_marks:
                return self.value_marks[prefix]
        return Mark(1, 1)


class YamlError(Exception):
    def __init__(self, mark: Mark, path: Path, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.path = path
        self.message = message


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Walker:
    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.doc = Document(None)
        self.count = 0

    def walk(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise YamlError(_mark(node), path, f"more than {MAX_VALUES:,} values "
                            "(anchors and aliases expanding without end?)")
        if len(path) > MAX_DEPTH:
            raise YamlError(_mark(node), path,
                            f"{DEPTH_MESSAGE} (or an alias inside its own anchor)")
        self.doc.value_marks.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQUENCE_TAG:
                raise YamlError(_mark(node), path, f"unsupported YAML tag {node.tag!r}")
            return [self.walk(item, path + (i,)) for i, item in enumerate(node.value)]
        text = str(node.value)
        self.doc.scalar_text[path] = text
        if node.tag == _STR_TAG:
            return node.value  # what SafeConstructor makes of it, without its dispatch
        if node.tag == "tag:yaml.org,2002:timestamp":
            return text  # no key takes a date: keep the text for the message
        if node.tag not in _SCALAR_TAGS:
            raise YamlError(_mark(node), path, f"unsupported YAML tag {node.tag!r}")
        if node.tag in _NUMBER_TAGS and len(text) > MAX_NUMBER_CHARS:
            # Python refuses to print an int of more than 4,300 digits; no key needs 100.
            raise YamlError(_mark(node), path, f"a number written with {len(text):,} "
                            f"characters, the limit is {MAX_NUMBER_CHARS}")
        if node.tag == _INT_TAG and PLAIN_INTEGER.fullmatch(text):
            return int(text)
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError, LookupError, yaml.YAMLError):
            # `!!bool maybe` (KeyError), `!!int ""` (IndexError), an unreadable !!float
            kind = node.tag.rsplit(":", 1)[-1]
            self.doc.problems.append((path, _mark(node), f"{_quote(text)} is not "
                                      f"{_KINDS.get(kind, kind)} (tagged !!{kind})"))
            return text
        if node.tag == _INT_TAG:
            self.doc.problems.append((path, _mark(node), _integer_problem(text, value)))
            return text
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        if node.tag != _MAPPING_TAG:
            raise YamlError(_mark(node), path, f"unsupported YAML tag {node.tag!r}")
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError(_mark(key_node), path, "merge keys (<<) are not supported")
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(_mark(key_node), path, "a key must be plain text")
            key = str(key_node.value)
            key_path = path + (key,)
            if key in result:
                first = self.doc.key_marks[key_path]
                raise YamlError(_mark(key_node), key_path,
                                f"duplicate key (first at line {first.line})")
            self.doc.key_marks[key_path] = _mark(key_node)
            result[key] = self.walk(value_node, key_path)
        return result


_KINDS = {"int": "a whole number", "float": "a number", "bool": "true or false"}


def _quote(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:30]!r}... ({len(text):,} characters)"


def _integer_problem(text: str, yaml11: int) -> str:
    """Why an integer not written in plain digits is refused: what each YAML reads."""
    if ":" in text:
        kind = "base 60"
    elif re.match("[-+]?0[xX]", text):
        kind = "hexadecimal"
    elif re.match("[-+]?0[bB]", text):
        kind = "binary"
    elif "_" in text:
        kind = "the _ ignored"
    else:
        kind = "octal: a leading 0"
    yaml12: object = "text"
    if _YAML12_INTEGER.fullmatch(text):
        yaml12 = int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    return (f"{text} is read as {yaml11} by YAML 1.1 ({kind}) and as {yaml12} by YAML 1.2; "
            "write a number in plain digits without a leading 0, or put text in quotes")


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _position(text: str, index: int) -> Mark:
    """Line and column (1-based) of a character offset."""
    before = text[:index]
    return Mark(before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1)


def _reader_position(text: str, position: int) -> Mark:
    """Where a ReaderError is: libyaml counts UTF-8 bytes, PyYAML's own reader characters."""
    if _Loader is yaml.SafeLoader:
        return _position(text, position)
    return _position(text, len(text.encode("utf-8")[:position].decode("utf-8", errors="ignore")))


def _check_depth(text: str) -> None:
    """Refuse deep nesting before composing: the event stream is parsed without recursion."""
    events = _Loader(text)
    try:
        depth = 0
        while events.check_event():
            event = events.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlError(_mark(event), (), DEPTH_MESSAGE)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        events.dispose()


def load(text: str) -> Document:
    """Parse one YAML document; raises YamlError with a position on any problem."""
    loader = None
    try:
        try:
            if len(text) >= PRESCAN_FROM_CHARS:
                _check_depth(text)
            loader = _Loader(text)
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
            problem = _one_line(exc.problem or exc.context or "not valid YAML")
            if "maximum nesting depth" in problem:  # libyaml's own limit (PyYAML 6.0.4 on)
                raise YamlError(where, (), DEPTH_MESSAGE) from None
            raise YamlError(where, (), f"YAML syntax: {problem}") from None
        except yaml.reader.ReaderError as exc:
            char = exc.character if isinstance(exc.character, str) else chr(exc.character)
            raise YamlError(_reader_position(text, exc.position), (),
                            f"YAML: character U+{ord(char):04X} is not allowed in a YAML "
                            "file (control character)") from None
        except yaml.YAMLError as exc:
            raise YamlError(Mark(1, 1), (), f"YAML: {_one_line(exc)}") from None
        except UnicodeError as exc:  # e.g. a lone surrogate: the C parser wants UTF-8
            raise YamlError(Mark(1, 1), (), f"not valid Unicode text: {_one_line(exc)}") from None
        walker = _Walker(loader)
        walker.doc.data = None if node is None else walker.walk(node, ())
        return walker.doc
    finally:
        if loader is not None:
            loader.dispose()


def load_plain(path: FilePath) -> Any:
    """One of the generator's own YAML files (reference data, a theme's theme.yaml)."""
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 - a safe loader
