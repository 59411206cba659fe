"""Parsing of google.api.http path templates.

The grammar is the one documented in google/api/http.proto::

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    FieldPath = IDENT { "." IDENT } ;
    Verb     = ":" LITERAL ;

A parsed template is a flat list of segments (variables are expanded into the segments they
match) plus, for each variable, the half-open range of segments it covers. Keeping the
segments flat is what lets the router match every template with one trie walk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TemplateError(ValueError):
    """A path template that does not follow the http.proto grammar."""

    def __init__(self, template: str, problem: str) -> None:
        super().__init__(f"invalid path template {template!r}: {problem}")
        self.template = template
        self.problem = problem


class SegmentKind(Enum):
    LITERAL = "literal"
    WILDCARD = "*"
    DEEP_WILDCARD = "**"


@dataclass(frozen=True, slots=True)
class Segment:
    kind: SegmentKind
    literal: str = ""

    def __str__(self) -> str:
        return self.literal if self.kind is SegmentKind.LITERAL else self.kind.value


@dataclass(frozen=True, slots=True)
class Variable:
    """A ``{field.path=segments}`` capture covering ``segments[start:end]`` of the template."""

    field_path: tuple[str, ...]
    start: int
    end: int

    @property
    def name(self) -> str:
        return ".".join(self.field_path)


@dataclass(frozen=True, slots=True)
class PathTemplate:
    source: str
    segments: tuple[Segment, ...]
    variables: tuple[Variable, ...]
    verb: str | None

    @property
    def shape(self) -> tuple[str, ...]:
        """What the template matches, ignoring variable names: equal shapes conflict."""
        shape = tuple(
            f"={s.literal}" if s.kind is SegmentKind.LITERAL else s.kind.value
            for s in self.segments
        )
        return (*shape, f":{self.verb}") if self.verb is not None else shape

    def variable_is_single_segment(self, variable: Variable) -> bool:
        """True for ``{var}`` / ``{var=*}``-like captures, which http.proto decodes fully."""
        covered = self.segments[variable.start : variable.end]
        return len(covered) == 1 and covered[0].kind is not SegmentKind.DEEP_WILDCARD


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.segments: list[Segment] = []
        self.variables: list[Variable] = []

    def fail(self, problem: str) -> TemplateError:
        return TemplateError(self.text, f"{problem} (at offset {self.pos})")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> PathTemplate:
        if not self.text.startswith("/"):
            raise self.fail("must start with '/'")
        self.pos = 1
        self.parse_segments(in_variable=False)
        verb = None
        if self.peek() == ":":
            self.pos += 1
            verb = self.parse_literal()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")
        self.check_deep_wildcard_last()
        names = [v.field_path for v in self.variables]
        duplicates = sorted({".".join(n) for n in names if names.count(n) > 1})
        if duplicates:
            raise TemplateError(self.text, f"variable {duplicates[0]!r} is bound more than once")
        return PathTemplate(self.text, tuple(self.segments), tuple(self.variables), verb)

    def parse_segments(self, *, in_variable: bool) -> None:
        while True:
            self.parse_segment(in_variable=in_variable)
            if self.peek() != "/":
                return
            self.pos += 1

    def parse_segment(self, *, in_variable: bool) -> None:
        if self.text.startswith("**", self.pos):
            self.pos += 2
            self.segments.append(Segment(SegmentKind.DEEP_WILDCARD))
        elif self.peek() == "*":
            self.pos += 1
            self.segments.append(Segment(SegmentKind.WILDCARD))
        elif self.peek() == "{":
            if in_variable:
                raise self.fail("a variable cannot contain another variable")
            self.parse_variable()
        else:
            self.segments.append(Segment(SegmentKind.LITERAL, self.parse_literal()))

    def parse_variable(self) -> None:
        self.pos += 1  # "{"
        path = [self.parse_ident()]
        while self.peek() == ".":
            self.pos += 1
            path.append(self.parse_ident())
        start = len(self.segments)
        if self.peek() == "=":
            self.pos += 1
            self.parse_segments(in_variable=True)
        else:
            self.segments.append(Segment(SegmentKind.WILDCARD))
        if self.peek() != "}":
            raise self.fail("expected '}' to close the variable")
        self.pos += 1
        self.variables.append(Variable(tuple(path), start, len(self.segments)))

    def parse_ident(self) -> str:
        match = _IDENT.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected a field name")
        self.pos = match.end()
        return match.group()

    def parse_literal(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in "/{}*:=":
            self.pos += 1
        if self.pos == start:
            raise self.fail("expected a literal segment")
        return self.text[start : self.pos]

    def check_deep_wildcard_last(self) -> None:
        for index, segment in enumerate(self.segments):
            if segment.kind is SegmentKind.DEEP_WILDCARD and index != len(self.segments) - 1:
                raise TemplateError(self.text, "'**' must be the last segment (before the verb)")


def parse_template(text: str) -> PathTemplate:
    """Parse an HttpRule path such as ``/v1/{name=projects/*/topics/*}:publish``."""
    return _Parser(text).parse()
