"""Path template parsing, the router's precedence rules and start-up checks of the rules."""

from __future__ import annotations

import re
from typing import Any

import pytest
from google.api import http_pb2  # type: ignore[import-untyped, unused-ignore]

from linktor.gateway.request_mapping import decode_variable
from linktor.gateway.router import Router
from linktor.gateway.routes import RouteConflictError, RouteError, build_routes, make_route
from linktor.gateway.template import SegmentKind, TemplateError, Variable, parse_template

pytestmark = pytest.mark.unit


def test_parse_template_with_variables_wildcards_and_verb() -> None:
    template = parse_template("/v1/{book.name=shelves/*/books/**}:publish")
    assert [str(s) for s in template.segments] == ["v1", "shelves", "*", "books", "**"]
    assert template.variables == (Variable(("book", "name"), 1, 5),)
    assert template.verb == "publish"
    assert not template.variable_is_single_segment(template.variables[0])


def test_plain_variable_is_a_single_wildcard() -> None:
    template = parse_template("/v1/messages/{message_id}")
    assert template.segments[-1].kind is SegmentKind.WILDCARD
    assert template.variable_is_single_segment(template.variables[0])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("v1/x", "must start with '/'"),
        ("/v1/**/x", "'**' must be the last segment"),
        ("/v1/{a={b}}", "cannot contain another variable"),
        ("/v1/{a", "expected '}'"),
        ("/v1/{1a}", "expected a field name"),
        ("/v1//x", "expected a literal segment"),
        ("/v1/{a}/{a}", "bound more than once"),
        ("/v1/x:", "expected a literal segment"),
        ("/v1/x}", "unexpected '}'"),
    ],
)
def test_bad_templates_are_explained(text: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(problem)) as error:
        parse_template(text)
    assert text in str(error.value)


def test_router_precedence_literal_then_wildcard_then_deep() -> None:
    router: Router[str] = Router()
    router.add("GET", parse_template("/v1/{name=**}"), "deep")
    router.add("GET", parse_template("/v1/{name=*}/b"), "wild")
    router.add("GET", parse_template("/v1/a/b"), "literal")
    router.add("GET", parse_template("/v1/{name=*}:do"), "verb")
    assert router.lookup("GET", "/v1/a/b").value == "literal"  # type: ignore[union-attr]
    assert router.lookup("GET", "/v1/z/b").value == "wild"  # type: ignore[union-attr]
    assert router.lookup("GET", "/v1/z/c/d").value == "deep"  # type: ignore[union-attr]
    assert router.lookup("GET", "/v1/z:do").value == "verb"  # type: ignore[union-attr]
    assert router.lookup("GET", "/v1/z:undo").value == "deep"  # type: ignore[union-attr]
    assert router.lookup("POST", "/v1/a/b") is None
    assert router.allowed_methods("/v1/a/b") == ["GET"]
    assert router.lookup("GET", "/v2/a") is None


def test_percent_decoding_rules() -> None:
    assert decode_variable("a%2Fb%20c", single_segment=True) == "a/b c"
    assert decode_variable("a%2Fb/c%2fd%3F", single_segment=False) == "a%2Fb/c%2fd?"


def _service(test_api: Any, name: str) -> Any:
    return test_api.pool.FindServiceByName(f"gatewaytest.v1.{name}")


def test_route_conflicts_are_detected_at_start(test_api: Any) -> None:
    # Example2 and Example5 both bind GET /v1/messages/{message_id}.
    with pytest.raises(
        RouteConflictError, match=r"GET /v1/messages/\{message_id\}.*match the same requests"
    ):
        build_routes([_service(test_api, "Example2"), _service(test_api, "Example5")])


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (http_pb2.HttpRule(get="/v1/{nope}"), "has no field 'nope'"),
        (http_pb2.HttpRule(get="/v1/{inner}"), "must name a singular primitive field"),
        (http_pb2.HttpRule(get="/v1/{tags}"), "must name a singular primitive field"),
        (http_pb2.HttpRule(get="/v1/{inners.a}"), "goes through a repeated field"),
        (http_pb2.HttpRule(post="/v1/x", body="nope"), "body 'nope' is not a top-level field"),
        (http_pb2.HttpRule(get="/v1/x", body="s"), "a GET binding cannot have a body"),
        (http_pb2.HttpRule(get="/v1/x", response_body="nope"), "response_body 'nope'"),
        (http_pb2.HttpRule(get="v1/x"), "must start with '/'"),
    ],
)
def test_bad_rules_name_the_method_and_problem(test_api: Any, rule: Any, problem: str) -> None:
    method = _service(test_api, "Kitchen").methods_by_name["Query"]
    kind = rule.WhichOneof("pattern")
    with pytest.raises(RouteError, match=problem) as error:
        make_route(method, kind.upper(), getattr(rule, kind), rule)
    assert "gatewaytest.v1.Kitchen.Query" in str(error.value)
