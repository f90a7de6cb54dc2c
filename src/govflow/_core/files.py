"""Reading the small files a deployment hands govflow (lifecycle definitions, holiday schedules) safely.

A file is read only if it is a regular file of at most :data:`MAX_FILE_BYTES` in UTF-8;
YAML is parsed by PyYAML's safe loader and refused when it uses more than
:data:`MAX_YAML_ALIASES` aliases or expands to more than :data:`MAX_YAML_NODES` nodes,
so that a "billion laughs" of a few hundred bytes cannot take the memory of the process.
Errors are :class:`ValueError` with a sentence the callers wrap in their own typed error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

__all__ = ["MAX_FILE_BYTES", "MAX_YAML_ALIASES", "MAX_YAML_NODES", "load_yaml", "read_small_text"]

#: The largest definition or schedule file read, in bytes.
MAX_FILE_BYTES: Final = 1_000_000
#: The most YAML aliases (``*name``) a file may use.
MAX_YAML_ALIASES: Final = 100
#: The most values a YAML file may expand to, aliases counted as often as they are used.
MAX_YAML_NODES: Final = 100_000


def read_small_text(path: str | os.PathLike[str]) -> str:
    """The UTF-8 text of a regular file of at most :data:`MAX_FILE_BYTES`; ValueError saying why not."""
    path = Path(path)
    try:
        if not path.exists():
            raise ValueError(f"no file {os.fspath(path)!r}")
        if not path.is_file():
            raise ValueError(f"{os.fspath(path)!r} is not a regular file (a directory?)")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read {os.fspath(path)!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{os.fspath(path)!r} is larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{os.fspath(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def load_yaml(text: str) -> Any:
    """The value of one YAML document, parsed safely and within the alias and node limits."""
    try:
        import yaml
    except ModuleNotFoundError:  # pragma: no cover - depends on the install
        raise ValueError("reading YAML needs PyYAML: pip install 'govflow[yaml]'") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise ValueError("not valid YAML: nested too deeply") from None
    if node is None:
        return None
    _count(node)
    try:
        return yaml.SafeLoader(text).get_single_data()
    except (yaml.YAMLError, RecursionError) as exc:  # pragma: no cover - composed fine above
        raise ValueError(f"not valid YAML: {exc}") from None


def _count(root: Any) -> None:
    """Refuse a YAML node graph with too many aliases or too large an expansion (each node's size once)."""
    import yaml

    sizes: dict[int, int] = {}
    aliases = 0
    # Iterative post-order: node -> expanded size, memoised by identity (an alias is the same node object).
    stack: list[tuple[Any, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node, yaml)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_YAML_NODES:
                raise ValueError(f"the YAML expands to more than {MAX_YAML_NODES} values (aliases of aliases?)")
            continue
        if key in sizes:
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise ValueError(f"the YAML uses more than {MAX_YAML_ALIASES} aliases")
            continue
        if key in on_path:
            raise ValueError("the YAML refers to itself (a recursive alias)")
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node, yaml):
            stack.append((child, False))


def _children(node: Any, yaml: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
