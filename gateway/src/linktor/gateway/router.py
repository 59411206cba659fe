"""Finding the route of a request: a segment trie per (HTTP method, custom verb).

Matching works on the raw (still percent-encoded) path so that an encoded ``/`` (``%2F``)
stays inside one segment and an encoded ``:`` never starts a verb. When several templates
match, a literal segment beats ``*`` and ``*`` beats ``**``, segment by segment from the left,
which is what grpc-gateway and Envoy users expect. Exact ties are rejected when the routes
are built (see routes.RouteConflictError), so lookups are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import unquote

from linktor.gateway.template import PathTemplate, SegmentKind

T = TypeVar("T")

ANY_METHOD = "*"


class _Node(Generic[T]):
    __slots__ = ("deep", "leaf", "literals", "wildcard")

    def __init__(self) -> None:
        self.literals: dict[str, _Node[T]] = {}
        self.wildcard: _Node[T] | None = None
        self.leaf: T | None = None
        # A value whose template ends with "**" here: it takes all remaining segments.
        self.deep: T | None = None


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    value: T
    # The raw URL segments the template was matched against (verb already removed).
    segments: list[str]


def _literal_key(raw_segment: str) -> str:
    return unquote(raw_segment) if "%" in raw_segment else raw_segment


def _walk(node: _Node[T], segments: list[str], index: int) -> T | None:
    if index == len(segments):
        return node.leaf if node.leaf is not None else node.deep
    segment = segments[index]
    child = node.literals.get(_literal_key(segment))
    if child is not None:
        found = _walk(child, segments, index + 1)
        if found is not None:
            return found
    if node.wildcard is not None and segment:
        found = _walk(node.wildcard, segments, index + 1)
        if found is not None:
            return found
    return node.deep


class Router(Generic[T]):
    def __init__(self) -> None:
        self._roots: dict[tuple[str, str | None], _Node[T]] = {}

    def add(self, http_method: str, template: PathTemplate, value: T) -> None:
        node = self._roots.setdefault((http_method, template.verb), _Node())
        for segment in template.segments:
            if segment.kind is SegmentKind.LITERAL:
                node = node.literals.setdefault(segment.literal, _Node())
            elif segment.kind is SegmentKind.WILDCARD:
                if node.wildcard is None:
                    node.wildcard = _Node()
                node = node.wildcard
            else:
                node.deep = value
                return
        node.leaf = value

    def _find(self, http_method: str, raw_path: str) -> Match[T] | None:
        segments = raw_path[1:].split("/") if raw_path.startswith("/") else []
        if not segments:
            return None
        last = segments[-1]
        colon = last.rfind(":")
        if colon >= 0:
            root = self._roots.get((http_method, last[colon + 1 :]))
            if root is not None:
                with_verb = [*segments[:-1], last[:colon]]
                found = _walk(root, with_verb, 0)
                if found is not None:
                    return Match(found, with_verb)
        root = self._roots.get((http_method, None))
        if root is not None:
            found = _walk(root, segments, 0)
            if found is not None:
                return Match(found, segments)
        return None

    def lookup(self, http_method: str, raw_path: str) -> Match[T] | None:
        """The route for this method and raw path, or None."""
        found = self._find(http_method, raw_path)
        if found is None and http_method != ANY_METHOD:
            found = self._find(ANY_METHOD, raw_path)
        return found

    def allowed_methods(self, raw_path: str) -> list[str]:
        """The HTTP methods that have a route for this path (for 405 and its Allow header)."""
        methods = sorted({m for m, _ in self._roots})
        return [m for m in methods if self._find(m, raw_path) is not None]
