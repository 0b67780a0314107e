"""YAML for configuration files, with alias bombs refused before they expand.

PyYAML's ``safe_load`` shares aliased nodes, so a "billion laughs" document
loads quickly — and then every walk over it (validation, an error message that
quotes the value) expands it: a 10^6 expansion once produced a 7.2 MB error
body (issue 10).  The composed node graph is measured first, counting each
alias as the size of what it points to (memoised, so measuring is linear in the
document); a document that would expand far beyond what it spells is refused
with a short error.
"""

from __future__ import annotations

from typing import Any

import yaml

# Aliases may add this many nodes beyond the document's own: YAML anchors for shared
# column lists are fine; a multiplication bomb is not.
MAX_ALIAS_EXPANSION = 100_000
# libyaml when PyYAML was built with it: 8x faster than the pure-Python parser, which made a
# reload of 2,000 sites cost 0.3 CPU-seconds.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where


def safe_load(text: str, *, max_expansion: int = MAX_ALIAS_EXPANSION, loader: Any = None) -> Any:
    """``yaml.safe_load`` that refuses alias bombs; :class:`YamlError` on bad YAML.

    ``loader``: a SafeLoader subclass (agent.registry.config's, with its fast string resolver)."""
    loader = (loader or _Loader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        distinct: set[int] = set()
        expanded = _size(node, {}, distinct)
        if expanded - len(distinct) > max_expansion:
            raise YamlError(
                f"YAML aliases expand the document to {expanded:,} nodes from {len(distinct):,} "
                "(an alias bomb?); refused"
            )
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = str(getattr(e, "problem", None) or e)[:200]
        raise YamlError(f"not valid YAML: {problem}", where) from None
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None
    finally:
        loader.dispose()


def _size(node: yaml.Node, memo: dict[int, int], distinct: set[int]) -> int:
    """Nodes under ``node`` as the constructed data will have them (aliases expanded)."""
    key = id(node)
    if key in memo:
        return memo[key]
    distinct.add(key)
    memo[key] = 1  # a recursive alias counts once (PyYAML builds it as a cycle, not an expansion)
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_size(child, memo, distinct) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_size(k, memo, distinct) + _size(v, memo, distinct) for k, v in node.value)
    memo[key] = total
    return total
