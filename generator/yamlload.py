"""YAML -> plain data, keeping where every value was written.

PyYAML's constructors forget node positions and silently keep the last of two
duplicate keys; merchants need both reported. So the file is composed into nodes
(C parser when present) and walked here, recording a mark for each key path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

Path = tuple[str | int, ...]
# A merchant file holds a few hundred values; far more means an alias bomb.
MAX_VALUES = 100_000
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
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
            raise YamlError(_mark(node), path, f"more than {MAX_VALUES} values "
                            "(anchors and aliases expanding without end?)")
        self.doc.value_marks.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, path + (i,)) for i, item in enumerate(node.value)]
        self.doc.scalar_text[path] = str(node.value)
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # no key takes a date: keep the text for the message
        if node.tag not in _SCALAR_TAGS:
            raise YamlError(_mark(node), path, f"unsupported YAML tag {node.tag!r}")
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        if node.tag != "tag:yaml.org,2002:map":
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


def load(text: str) -> Document:
    """Parse one YAML document; raises YamlError with a position on any problem."""
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
            raise YamlError(where, (), f"YAML syntax: {exc.problem or exc.context}") from None
        except yaml.YAMLError as exc:
            raise YamlError(Mark(1, 1), (), f"YAML: {exc}") from None
        walker = _Walker(loader)
        walker.doc.data = None if node is None else walker.walk(node, ())
        return walker.doc
    finally:
        loader.dispose()
