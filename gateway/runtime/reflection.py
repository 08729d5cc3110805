"""Server reflection that carries the API's comments.

grpcio-reflection answers with each file's descriptor copied from the
generated _pb2 modules, which hold no source info, so `grpcurl describe`
would print no comments. `make generate` also writes the API's descriptors
with their source info (datagw/v1/descriptor_set.binpb, in the generated
client package); this servicer answers with those for our files and with
grpcio-reflection's copy for the others (google.protobuf, google.rpc,
buf.validate, grpc.health), which it still looks up and walks as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources

import grpc
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import _async as reflection_aio
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

DESCRIPTOR_SET = ("datagw.v1", "descriptor_set.binpb")


def documented_files() -> dict[str, bytes]:
    """File name -> the serialized FileDescriptorProto with source info."""
    package, name = DESCRIPTOR_SET
    fds = descriptor_pb2.FileDescriptorSet.FromString(
        resources.files(package).joinpath(name).read_bytes())
    for file in fds.file:
        _drop_json_names(file.message_type)
    return {f.name: f.SerializeToString() for f in fds.file}


def _drop_json_names(messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
    """protoc fills in every field's json_name (the lowerCamelCase default,
    we set none); the generated modules' copies have none. grpcurl prints
    JSON with json_name where there is one, so keeping them would turn its
    output from the .proto names (`order_id`, as the docs show and scripts
    parse) into camelCase. Dropped: the comments are what is added."""
    for message in messages:
        for f in message.field:
            f.ClearField("json_name")
        _drop_json_names(message.nested_type)


class DocumentedReflectionServicer(reflection_aio.ReflectionServicer):  # type: ignore[misc]
    """grpcio-reflection's servicer; each file it returns is swapped for
    its documented copy when there is one."""

    def __init__(self, service_names: Iterable[str], documented: Mapping[str, bytes]) -> None:
        super().__init__(service_names)
        self._documented = documented

    def _file_by_filename(
        self, request: reflection_pb2.ServerReflectionRequest, filename: str
    ) -> reflection_pb2.ServerReflectionResponse:
        return self._with_comments(super()._file_by_filename(request, filename))

    def _file_containing_symbol(
        self, request: reflection_pb2.ServerReflectionRequest, fully_qualified_name: str
    ) -> reflection_pb2.ServerReflectionResponse:
        response = super()._file_containing_symbol(request, fully_qualified_name)
        if response.HasField("error_response"):
            # The default pool finds no method by name (`grpcurl describe
            # pkg.Service.Method` asks for one); a method is in its service's file.
            service = fully_qualified_name.rpartition(".")[0]
            try:
                self._pool.FindServiceByName(service)
            except KeyError:
                pass
            else:
                response = super()._file_containing_symbol(request, service)
        return self._with_comments(response)

    def _file_containing_extension(
        self, request: reflection_pb2.ServerReflectionRequest, containing_type: str,
        extension_number: int,
    ) -> reflection_pb2.ServerReflectionResponse:
        return self._with_comments(super()._file_containing_extension(
            request, containing_type, extension_number))

    def _with_comments(
        self, response: reflection_pb2.ServerReflectionResponse
    ) -> reflection_pb2.ServerReflectionResponse:
        if response.HasField("file_descriptor_response"):
            files = response.file_descriptor_response.file_descriptor_proto
            for i, serialized in enumerate(files):
                name = descriptor_pb2.FileDescriptorProto.FromString(serialized).name
                files[i] = self._documented.get(name, serialized)
        return response


def enable_reflection(service_names: Iterable[str], server: grpc.aio.Server) -> None:
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        DocumentedReflectionServicer(service_names, documented_files()), server)
