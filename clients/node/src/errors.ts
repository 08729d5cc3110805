// Reading the rich error model (google.rpc.Status with typed details) that the
// gateway sends in the grpc-status-details-bin trailer of a failed call.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { ConnectError, decodeBinaryHeader } from "@connectrpc/connect";
import { type Status, StatusSchema } from "./gen/google/rpc/status_pb.js";

const STATUS_DETAILS_TRAILER = "grpc-status-details-bin";

/**
 * The google.rpc.Status of a failed call, decoded from its
 * grpc-status-details-bin trailer; undefined when the error is not a
 * ConnectError or the server sent no details.
 */
export function grpcStatus(err: unknown): Status | undefined {
  if (!(err instanceof ConnectError)) {
    return undefined;
  }
  // ConnectError.metadata holds the response headers and trailers together;
  // a trailers-only response (the usual shape of an error) has it in the headers.
  const raw = err.metadata.get(STATUS_DETAILS_TRAILER);
  return raw === null ? undefined : decodeBinaryHeader(raw, StatusSchema);
}

/** The details of `status` that are of type `schema`, decoded, in order. */
export function statusDetails<Desc extends DescMessage>(
  status: Status,
  schema: Desc,
): MessageShape<Desc>[] {
  return status.details.flatMap((any) => {
    const detail = anyUnpack(any, schema);
    return detail === undefined ? [] : [detail];
  });
}
