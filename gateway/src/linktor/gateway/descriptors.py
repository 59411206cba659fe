"""Loading a FileDescriptorSet into its own DescriptorPool, and finding its services."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.descriptor_pool import DescriptorPool


class DescriptorSetError(ValueError):
    pass


def _ordered(
    files: Iterable[descriptor_pb2.FileDescriptorProto],
) -> list[descriptor_pb2.FileDescriptorProto]:
    """Files with every dependency before its dependents (a pool requires that order)."""
    by_name = {f.name: f for f in files}
    done: set[str] = set()
    out: list[descriptor_pb2.FileDescriptorProto] = []

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in chain:
            raise DescriptorSetError(f"import cycle: {' -> '.join((*chain, name))}")
        file = by_name.get(name)
        if file is None:
            file = _from_default_pool(name, chain)
            by_name[name] = file
        for dependency in file.dependency:
            visit(dependency, (*chain, name))
        done.add(name)
        out.append(file)

    for name in list(by_name):
        visit(name, ())
    return out


def _from_default_pool(name: str, chain: tuple[str, ...]) -> descriptor_pb2.FileDescriptorProto:
    # Sets built without --include_imports lack google/protobuf/*.proto and google/api/*.proto;
    # the copies compiled into protobuf and googleapis-common-protos stand in for them.
    try:
        found = descriptor_pool.Default().FindFileByName(name)
    except KeyError:
        importer = chain[-1] if chain else "the descriptor set"
        raise DescriptorSetError(
            f"{importer} imports {name!r}, which the descriptor set does not contain "
            "(build it with --include_imports)"
        ) from None
    proto = descriptor_pb2.FileDescriptorProto()
    found.CopyToProto(proto)
    return proto


def pool_from_files(files: Iterable[descriptor_pb2.FileDescriptorProto]) -> DescriptorPool:
    pool = DescriptorPool()
    for file in _ordered(files):
        pool.Add(file)
    return pool


def load_descriptor_set(path: Path) -> tuple[DescriptorPool, descriptor_pb2.FileDescriptorSet]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DescriptorSetError(f"cannot read descriptor set {path}: {error.strerror}") from None
    try:
        fds = descriptor_pb2.FileDescriptorSet.FromString(data)
    except Exception:
        raise DescriptorSetError(f"{path} is not a binary FileDescriptorSet") from None
    return pool_from_files(fds.file), fds


def services_of(
    pool: DescriptorPool,
    files: Iterable[descriptor_pb2.FileDescriptorProto],
    only: Iterable[str] = (),
) -> list[ServiceDescriptor]:
    """The services declared in ``files`` (or just those named in ``only``, fully qualified)."""
    wanted = set(only)
    missing = set(wanted)
    services = []
    for file in files:
        for service in file.service:
            full_name = f"{file.package}.{service.name}" if file.package else service.name
            if not wanted or full_name in wanted:
                services.append(pool.FindServiceByName(full_name))
                missing.discard(full_name)
    if missing:
        names = ", ".join(sorted(missing))
        raise DescriptorSetError(f"service(s) not in the descriptor set: {names}")
    return services
