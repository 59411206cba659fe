"""Proto comments by element full name, read from a file's source_code_info."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import descriptor_pb2

# Field numbers of FileDescriptorProto / DescriptorProto / ... used in location paths.
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM = 2, 3, 4
_ENUM_VALUE, _SERVICE_METHOD = 2, 2


def _clean(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines()]
    # Comments starting with "(--" ... "--)" are internal by the AIP convention; drop them.
    out, hidden = [], False
    for line in lines:
        if line.startswith("(--"):
            hidden = True
        if not hidden:
            out.append(line)
        if line.endswith("--)"):
            hidden = False
    return "\n".join(out).strip()


def _by_path(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    found = {}
    for location in file.source_code_info.location:
        text = location.leading_comments or location.trailing_comments
        if text:
            found[tuple(location.path)] = _clean(text)
    return found


class _Collector:
    """Walks one file's declarations in the order their location paths number them."""

    def __init__(self, paths: dict[tuple[int, ...], str], out: dict[str, str]) -> None:
        self.paths = paths
        self.out = out

    def add(self, path: tuple[int, ...], name: str) -> None:
        if path in self.paths:
            self.out[name] = self.paths[path]

    def enum(
        self, e: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...], scope: str
    ) -> None:
        name = scope + e.name
        self.add(path, name)
        for i, value in enumerate(e.value):
            self.add((*path, _ENUM_VALUE, i), f"{name}.{value.name}")

    def message(self, m: descriptor_pb2.DescriptorProto, path: tuple[int, ...], scope: str) -> None:
        name = scope + m.name
        self.add(path, name)
        for i, field in enumerate(m.field):
            self.add((*path, _MESSAGE_FIELD, i), f"{name}.{field.name}")
        for i, nested in enumerate(m.nested_type):
            self.message(nested, (*path, _MESSAGE_NESTED, i), f"{name}.")
        for i, nested_enum in enumerate(m.enum_type):
            self.enum(nested_enum, (*path, _MESSAGE_ENUM, i), f"{name}.")


def comments_of(files: Iterable[descriptor_pb2.FileDescriptorProto]) -> dict[str, str]:
    """Map of full names (``pkg.Message``, ``pkg.Message.field``, ``pkg.Service.Method``...)."""
    out: dict[str, str] = {}
    for file in files:
        collector = _Collector(_by_path(file), out)
        prefix = f"{file.package}." if file.package else ""
        for i, m in enumerate(file.message_type):
            collector.message(m, (_FILE_MESSAGE, i), prefix)
        for i, e in enumerate(file.enum_type):
            collector.enum(e, (_FILE_ENUM, i), prefix)
        for i, service in enumerate(file.service):
            collector.add((_FILE_SERVICE, i), prefix + service.name)
            for j, method in enumerate(service.method):
                path = (_FILE_SERVICE, i, _SERVICE_METHOD, j)
                collector.add(path, f"{prefix}{service.name}.{method.name}")
    return out
