"""A protoc plugin that runs grpcio-tools' bundled protoc over the request's descriptors.

buf only talks to generators through the plugin protocol, and grpcio-tools ships the Python
and gRPC-Python generators inside its bundled protoc rather than as plugin executables. This
shim receives the CodeGeneratorRequest from buf, writes the descriptors it carries to a
temporary FileDescriptorSet, runs ``grpc_tools.protoc`` with ``--descriptor_set_in`` and the
outputs named in the plugin parameter (``python``, ``grpc_python``; comma separated), and
returns the produced files in a CodeGeneratorResponse.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc

KNOWN_OUTPUTS = {"python", "grpc_python", "pyi"}


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    response = plugin_pb2.CodeGeneratorResponse()
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    outputs = [p for p in request.parameter.split(",") if p] or ["python"]
    unknown = sorted(set(outputs) - KNOWN_OUTPUTS)
    if unknown:
        response.error = f"unknown output(s) {unknown}; known: {sorted(KNOWN_OUTPUTS)}"
        return response
    with tempfile.TemporaryDirectory() as tmp:
        fds = descriptor_pb2.FileDescriptorSet(file=request.proto_file)
        fds_path = Path(tmp, "descriptors.binpb")
        fds_path.write_bytes(fds.SerializeToString())
        out = Path(tmp, "out")
        out.mkdir()
        args = ["protoc", f"--descriptor_set_in={fds_path}"]
        args += [f"--{o}_out={out}" for o in outputs]
        args += list(request.file_to_generate)
        if protoc.main(args) != 0:
            response.error = f"grpc_tools.protoc failed for {list(request.file_to_generate)}"
            return response
        for path in sorted(out.rglob("*")):
            if path.is_file():
                response.file.add(name=str(path.relative_to(out)), content=path.read_text())
    return response


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())


if __name__ == "__main__":
    main()
