"""What the operator commands that talk to a running gateway share
(`datagw reshard`, `datagw verify`): where the gateway is, how a refusal
reads, and responses as JSON.

They speak plaintext and send no credential: the gateway knows them as a
local caller (loopback TCP or the unix socket, docs/security.md), which the
shipped access policy grants the admin methods. So they run on the
gateway's machine or in its pod; elsewhere, call the RPCs with a client
that has a certificate or token.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

DEFAULT_TARGET = "127.0.0.1:50051"


def connection_args(parser: argparse.ArgumentParser) -> None:
    """--target HOST:PORT or --unix-socket PATH."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--target", default=DEFAULT_TARGET,
                       help=f"the gateway's gRPC host:port (default {DEFAULT_TARGET})")
    where.add_argument("--unix-socket", metavar="PATH",
                       help="the gateway's unix socket (server.unix_socket) instead of TCP")


def channel(args: argparse.Namespace) -> grpc.Channel:
    return grpc.insecure_channel(f"unix:{args.unix_socket}" if args.unix_socket
                                 else args.target)


def describe_error(err: grpc.RpcError, command: str) -> str:
    """The code, reason and message of a refusal, and what its details add
    (ErrorInfo metadata, field and precondition violations)."""
    if not isinstance(err, grpc.Call):  # every RpcError a stub raises is one
        return f"datagw {command}: {err}"
    reason = ""
    lines = []
    status = rpc_status.from_call(err)
    details: list[Any] = list(status.details) if status is not None else []
    for detail in details:
        info = error_details_pb2.ErrorInfo()
        bad = error_details_pb2.BadRequest()
        precondition = error_details_pb2.PreconditionFailure()
        if detail.Unpack(info):
            reason = info.reason
            lines += [f"  {k}: {v}" for k, v in sorted(info.metadata.items())]
        elif detail.Unpack(bad):
            lines += [f"  {v.field}: {v.description}" for v in bad.field_violations]
        elif detail.Unpack(precondition):
            lines += [f"  {v.subject}: {v.description}" for v in precondition.violations]
    code = err.code().name
    head = (f"datagw {command}: {code}{f' {reason}' if reason and reason != code else ''}: "
            f"{err.details()}")
    return "\n".join([head, *lines])


def as_json(msg: Message) -> str:
    # Zeros printed too (shard 0, 0 pending): a reader need not know proto
    # JSON's defaults.
    return json.dumps(json_format.MessageToDict(msg, preserving_proto_field_name=True,
                                                always_print_fields_with_no_presence=True),
                      indent=2, sort_keys=True)
