package io.datagw.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.PreconditionFailure;
import com.google.rpc.ResourceInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decodes the {@code google.rpc} details the gateway sends with an error, in the {@code
 * grpc-status-details-bin} trailer.
 *
 * <pre>{@code
 * try {
 *   catalog.getProduct(request);
 * } catch (StatusRuntimeException e) {
 *   Errors.Details details = Errors.decode(e);
 *   switch (details.reason()) {  // stable, unlike the message
 *     case "NOT_FOUND" -> ...
 *   }
 * }
 * }</pre>
 */
public final class Errors {
  private Errors() {}

  /**
   * A failed call's status and its details; a detail the gateway did not send is empty.
   *
   * @param code the status code
   * @param message the status message, for people
   * @param errorInfo on every error the gateway raises: domain {@code datagw}, a reason, metadata
   * @param fieldViolations the request fields that are wrong (BadRequest), on INVALID_ARGUMENT
   * @param preconditionFailure on ABORTED and FAILED_PRECONDITION where it applies
   * @param resourceInfo what was not found, on NOT_FOUND
   */
  public record Details(
      Status.Code code,
      String message,
      Optional<ErrorInfo> errorInfo,
      List<BadRequest.FieldViolation> fieldViolations,
      Optional<PreconditionFailure> preconditionFailure,
      Optional<ResourceInfo> resourceInfo) {

    /** The ErrorInfo's reason, the value to switch on; "" without one (a transport error). */
    public String reason() {
      return errorInfo.map(ErrorInfo::getReason).orElse("");
    }

    /** The description of the violation on {@code field}, if the request had one. */
    public Optional<String> violation(String field) {
      return fieldViolations.stream()
          .filter(v -> v.getField().equals(field))
          .map(BadRequest.FieldViolation::getDescription)
          .findFirst();
    }
  }

  /**
   * The status and details of {@code error}, a {@code StatusRuntimeException} or {@code
   * StatusException} from a call (any other throwable is UNKNOWN without details). A detail that
   * does not parse is left out.
   */
  public static Details decode(Throwable error) {
    Status status = Status.fromThrowable(error);
    com.google.rpc.Status proto = StatusProto.fromThrowable(error);
    List<Any> details = proto == null ? List.of() : proto.getDetailsList();
    List<BadRequest.FieldViolation> violations = new ArrayList<>();
    for (BadRequest bad : unpack(details, BadRequest.class)) {
      violations.addAll(bad.getFieldViolationsList());
    }
    return new Details(
        status.getCode(),
        status.getDescription() == null ? "" : status.getDescription(),
        unpack(details, ErrorInfo.class).stream().findFirst(),
        List.copyOf(violations),
        unpack(details, PreconditionFailure.class).stream().findFirst(),
        unpack(details, ResourceInfo.class).stream().findFirst());
  }

  private static <T extends com.google.protobuf.Message> List<T> unpack(
      List<Any> details, Class<T> type) {
    List<T> found = new ArrayList<>();
    for (Any any : details) {
      if (any.is(type)) {
        try {
          found.add(any.unpack(type));
        } catch (InvalidProtocolBufferException e) {
          // A malformed detail is left out; the code and message still say what failed.
        }
      }
    }
    return found;
  }
}
