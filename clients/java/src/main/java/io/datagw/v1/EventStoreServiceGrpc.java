package io.datagw.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * The event store: the domain events every write appends on its shard, and
 * streams that services append themselves. Semantics: docs/events.md.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class EventStoreServiceGrpc {

  private EventStoreServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "datagw.v1.EventStoreService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.AppendToStreamRequest,
      io.datagw.v1.AppendToStreamResponse> getAppendToStreamMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AppendToStream",
      requestType = io.datagw.v1.AppendToStreamRequest.class,
      responseType = io.datagw.v1.AppendToStreamResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.AppendToStreamRequest,
      io.datagw.v1.AppendToStreamResponse> getAppendToStreamMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.AppendToStreamRequest, io.datagw.v1.AppendToStreamResponse> getAppendToStreamMethod;
    if ((getAppendToStreamMethod = EventStoreServiceGrpc.getAppendToStreamMethod) == null) {
      synchronized (EventStoreServiceGrpc.class) {
        if ((getAppendToStreamMethod = EventStoreServiceGrpc.getAppendToStreamMethod) == null) {
          EventStoreServiceGrpc.getAppendToStreamMethod = getAppendToStreamMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.AppendToStreamRequest, io.datagw.v1.AppendToStreamResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AppendToStream"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.AppendToStreamRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.AppendToStreamResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventStoreServiceMethodDescriptorSupplier("AppendToStream"))
              .build();
        }
      }
    }
    return getAppendToStreamMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ReadStreamRequest,
      io.datagw.v1.ReadStreamResponse> getReadStreamMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ReadStream",
      requestType = io.datagw.v1.ReadStreamRequest.class,
      responseType = io.datagw.v1.ReadStreamResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ReadStreamRequest,
      io.datagw.v1.ReadStreamResponse> getReadStreamMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ReadStreamRequest, io.datagw.v1.ReadStreamResponse> getReadStreamMethod;
    if ((getReadStreamMethod = EventStoreServiceGrpc.getReadStreamMethod) == null) {
      synchronized (EventStoreServiceGrpc.class) {
        if ((getReadStreamMethod = EventStoreServiceGrpc.getReadStreamMethod) == null) {
          EventStoreServiceGrpc.getReadStreamMethod = getReadStreamMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ReadStreamRequest, io.datagw.v1.ReadStreamResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ReadStream"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReadStreamRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReadStreamResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventStoreServiceMethodDescriptorSupplier("ReadStream"))
              .build();
        }
      }
    }
    return getReadStreamMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ReadAllRequest,
      io.datagw.v1.ReadAllResponse> getReadAllMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ReadAll",
      requestType = io.datagw.v1.ReadAllRequest.class,
      responseType = io.datagw.v1.ReadAllResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ReadAllRequest,
      io.datagw.v1.ReadAllResponse> getReadAllMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ReadAllRequest, io.datagw.v1.ReadAllResponse> getReadAllMethod;
    if ((getReadAllMethod = EventStoreServiceGrpc.getReadAllMethod) == null) {
      synchronized (EventStoreServiceGrpc.class) {
        if ((getReadAllMethod = EventStoreServiceGrpc.getReadAllMethod) == null) {
          EventStoreServiceGrpc.getReadAllMethod = getReadAllMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ReadAllRequest, io.datagw.v1.ReadAllResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ReadAll"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReadAllRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReadAllResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventStoreServiceMethodDescriptorSupplier("ReadAll"))
              .build();
        }
      }
    }
    return getReadAllMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.SubscribeToStreamRequest,
      io.datagw.v1.SubscribeToStreamResponse> getSubscribeToStreamMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SubscribeToStream",
      requestType = io.datagw.v1.SubscribeToStreamRequest.class,
      responseType = io.datagw.v1.SubscribeToStreamResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<io.datagw.v1.SubscribeToStreamRequest,
      io.datagw.v1.SubscribeToStreamResponse> getSubscribeToStreamMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.SubscribeToStreamRequest, io.datagw.v1.SubscribeToStreamResponse> getSubscribeToStreamMethod;
    if ((getSubscribeToStreamMethod = EventStoreServiceGrpc.getSubscribeToStreamMethod) == null) {
      synchronized (EventStoreServiceGrpc.class) {
        if ((getSubscribeToStreamMethod = EventStoreServiceGrpc.getSubscribeToStreamMethod) == null) {
          EventStoreServiceGrpc.getSubscribeToStreamMethod = getSubscribeToStreamMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.SubscribeToStreamRequest, io.datagw.v1.SubscribeToStreamResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SubscribeToStream"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SubscribeToStreamRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SubscribeToStreamResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventStoreServiceMethodDescriptorSupplier("SubscribeToStream"))
              .build();
        }
      }
    }
    return getSubscribeToStreamMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.SubscribeToAllRequest,
      io.datagw.v1.SubscribeToAllResponse> getSubscribeToAllMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SubscribeToAll",
      requestType = io.datagw.v1.SubscribeToAllRequest.class,
      responseType = io.datagw.v1.SubscribeToAllResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<io.datagw.v1.SubscribeToAllRequest,
      io.datagw.v1.SubscribeToAllResponse> getSubscribeToAllMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.SubscribeToAllRequest, io.datagw.v1.SubscribeToAllResponse> getSubscribeToAllMethod;
    if ((getSubscribeToAllMethod = EventStoreServiceGrpc.getSubscribeToAllMethod) == null) {
      synchronized (EventStoreServiceGrpc.class) {
        if ((getSubscribeToAllMethod = EventStoreServiceGrpc.getSubscribeToAllMethod) == null) {
          EventStoreServiceGrpc.getSubscribeToAllMethod = getSubscribeToAllMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.SubscribeToAllRequest, io.datagw.v1.SubscribeToAllResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SubscribeToAll"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SubscribeToAllRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SubscribeToAllResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventStoreServiceMethodDescriptorSupplier("SubscribeToAll"))
              .build();
        }
      }
    }
    return getSubscribeToAllMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetStreamMetadataRequest,
      io.datagw.v1.GetStreamMetadataResponse> getGetStreamMetadataMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetStreamMetadata",
      requestType = io.datagw.v1.GetStreamMetadataRequest.class,
      responseType = io.datagw.v1.GetStreamMetadataResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetStreamMetadataRequest,
      io.datagw.v1.GetStreamMetadataResponse> getGetStreamMetadataMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetStreamMetadataRequest, io.datagw.v1.GetStreamMetadataResponse> getGetStreamMetadataMethod;
    if ((getGetStreamMetadataMethod = EventStoreServiceGrpc.getGetStreamMetadataMethod) == null) {
      synchronized (EventStoreServiceGrpc.class) {
        if ((getGetStreamMetadataMethod = EventStoreServiceGrpc.getGetStreamMetadataMethod) == null) {
          EventStoreServiceGrpc.getGetStreamMetadataMethod = getGetStreamMetadataMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetStreamMetadataRequest, io.datagw.v1.GetStreamMetadataResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetStreamMetadata"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetStreamMetadataRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetStreamMetadataResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventStoreServiceMethodDescriptorSupplier("GetStreamMetadata"))
              .build();
        }
      }
    }
    return getGetStreamMetadataMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.SetStreamMetadataRequest,
      io.datagw.v1.SetStreamMetadataResponse> getSetStreamMetadataMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SetStreamMetadata",
      requestType = io.datagw.v1.SetStreamMetadataRequest.class,
      responseType = io.datagw.v1.SetStreamMetadataResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.SetStreamMetadataRequest,
      io.datagw.v1.SetStreamMetadataResponse> getSetStreamMetadataMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.SetStreamMetadataRequest, io.datagw.v1.SetStreamMetadataResponse> getSetStreamMetadataMethod;
    if ((getSetStreamMetadataMethod = EventStoreServiceGrpc.getSetStreamMetadataMethod) == null) {
      synchronized (EventStoreServiceGrpc.class) {
        if ((getSetStreamMetadataMethod = EventStoreServiceGrpc.getSetStreamMetadataMethod) == null) {
          EventStoreServiceGrpc.getSetStreamMetadataMethod = getSetStreamMetadataMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.SetStreamMetadataRequest, io.datagw.v1.SetStreamMetadataResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SetStreamMetadata"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SetStreamMetadataRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SetStreamMetadataResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventStoreServiceMethodDescriptorSupplier("SetStreamMetadata"))
              .build();
        }
      }
    }
    return getSetStreamMetadataMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.DeleteStreamRequest,
      io.datagw.v1.DeleteStreamResponse> getDeleteStreamMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteStream",
      requestType = io.datagw.v1.DeleteStreamRequest.class,
      responseType = io.datagw.v1.DeleteStreamResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.DeleteStreamRequest,
      io.datagw.v1.DeleteStreamResponse> getDeleteStreamMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.DeleteStreamRequest, io.datagw.v1.DeleteStreamResponse> getDeleteStreamMethod;
    if ((getDeleteStreamMethod = EventStoreServiceGrpc.getDeleteStreamMethod) == null) {
      synchronized (EventStoreServiceGrpc.class) {
        if ((getDeleteStreamMethod = EventStoreServiceGrpc.getDeleteStreamMethod) == null) {
          EventStoreServiceGrpc.getDeleteStreamMethod = getDeleteStreamMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.DeleteStreamRequest, io.datagw.v1.DeleteStreamResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteStream"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.DeleteStreamRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.DeleteStreamResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventStoreServiceMethodDescriptorSupplier("DeleteStream"))
              .build();
        }
      }
    }
    return getDeleteStreamMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.TombstoneStreamRequest,
      io.datagw.v1.TombstoneStreamResponse> getTombstoneStreamMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "TombstoneStream",
      requestType = io.datagw.v1.TombstoneStreamRequest.class,
      responseType = io.datagw.v1.TombstoneStreamResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.TombstoneStreamRequest,
      io.datagw.v1.TombstoneStreamResponse> getTombstoneStreamMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.TombstoneStreamRequest, io.datagw.v1.TombstoneStreamResponse> getTombstoneStreamMethod;
    if ((getTombstoneStreamMethod = EventStoreServiceGrpc.getTombstoneStreamMethod) == null) {
      synchronized (EventStoreServiceGrpc.class) {
        if ((getTombstoneStreamMethod = EventStoreServiceGrpc.getTombstoneStreamMethod) == null) {
          EventStoreServiceGrpc.getTombstoneStreamMethod = getTombstoneStreamMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.TombstoneStreamRequest, io.datagw.v1.TombstoneStreamResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "TombstoneStream"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.TombstoneStreamRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.TombstoneStreamResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventStoreServiceMethodDescriptorSupplier("TombstoneStream"))
              .build();
        }
      }
    }
    return getTombstoneStreamMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetAuditTrailRequest,
      io.datagw.v1.GetAuditTrailResponse> getGetAuditTrailMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetAuditTrail",
      requestType = io.datagw.v1.GetAuditTrailRequest.class,
      responseType = io.datagw.v1.GetAuditTrailResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetAuditTrailRequest,
      io.datagw.v1.GetAuditTrailResponse> getGetAuditTrailMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetAuditTrailRequest, io.datagw.v1.GetAuditTrailResponse> getGetAuditTrailMethod;
    if ((getGetAuditTrailMethod = EventStoreServiceGrpc.getGetAuditTrailMethod) == null) {
      synchronized (EventStoreServiceGrpc.class) {
        if ((getGetAuditTrailMethod = EventStoreServiceGrpc.getGetAuditTrailMethod) == null) {
          EventStoreServiceGrpc.getGetAuditTrailMethod = getGetAuditTrailMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetAuditTrailRequest, io.datagw.v1.GetAuditTrailResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetAuditTrail"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetAuditTrailRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetAuditTrailResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EventStoreServiceMethodDescriptorSupplier("GetAuditTrail"))
              .build();
        }
      }
    }
    return getGetAuditTrailMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static EventStoreServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventStoreServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventStoreServiceStub>() {
        @java.lang.Override
        public EventStoreServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventStoreServiceStub(channel, callOptions);
        }
      };
    return EventStoreServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static EventStoreServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventStoreServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventStoreServiceBlockingV2Stub>() {
        @java.lang.Override
        public EventStoreServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventStoreServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return EventStoreServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static EventStoreServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventStoreServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventStoreServiceBlockingStub>() {
        @java.lang.Override
        public EventStoreServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventStoreServiceBlockingStub(channel, callOptions);
        }
      };
    return EventStoreServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static EventStoreServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EventStoreServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EventStoreServiceFutureStub>() {
        @java.lang.Override
        public EventStoreServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EventStoreServiceFutureStub(channel, callOptions);
        }
      };
    return EventStoreServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * The event store: the domain events every write appends on its shard, and
   * streams that services append themselves. Semantics: docs/events.md.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Appends events to one stream in one transaction, checking the expected
     * revision (ABORTED/WRONG_EXPECTED_VERSION with the current revision in
     * the details). Idempotent by event id: the same events appended again at
     * the same place succeed without duplicates; a partial overlap is
     * ALREADY_EXISTS/EVENT_IDS_OVERLAP.
     * </pre>
     */
    default void appendToStream(io.datagw.v1.AppendToStreamRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.AppendToStreamResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAppendToStreamMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads one stream forward or backward from a revision.
     * </pre>
     */
    default void readStream(io.datagw.v1.ReadStreamRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReadStreamResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getReadStreamMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads all events of every shard after a position vector, in each shard's
     * commit order; the response's position resumes the read.
     * </pre>
     */
    default void readAll(io.datagw.v1.ReadAllRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReadAllResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getReadAllMethod(), responseObserver);
    }

    /**
     * <pre>
     * Catch-up then live subscription to one stream.
     * </pre>
     */
    default void subscribeToStream(io.datagw.v1.SubscribeToStreamRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SubscribeToStreamResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSubscribeToStreamMethod(), responseObserver);
    }

    /**
     * <pre>
     * Catch-up then live subscription to every shard, with checkpoints and a
     * caught_up marker. Never skips an event committed late by a concurrent
     * transaction; resuming from a checkpoint repeats nothing.
     * </pre>
     */
    default void subscribeToAll(io.datagw.v1.SubscribeToAllRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SubscribeToAllResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSubscribeToAllMethod(), responseObserver);
    }

    /**
     * <pre>
     * A stream's revision, retention and delete state.
     * </pre>
     */
    default void getStreamMetadata(io.datagw.v1.GetStreamMetadataRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetStreamMetadataResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetStreamMetadataMethod(), responseObserver);
    }

    /**
     * <pre>
     * Sets a stream's retention (max_age, max_count).
     * </pre>
     */
    default void setStreamMetadata(io.datagw.v1.SetStreamMetadataRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SetStreamMetadataResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSetStreamMetadataMethod(), responseObserver);
    }

    /**
     * <pre>
     * Soft delete: the stream reads as NOT_FOUND until the next append, which
     * continues its revisions; the old events are removed by retention.
     * </pre>
     */
    default void deleteStream(io.datagw.v1.DeleteStreamRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.DeleteStreamResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteStreamMethod(), responseObserver);
    }

    /**
     * <pre>
     * Hard delete: the events are removed and the stream name can never be
     * used again (FAILED_PRECONDITION/STREAM_TOMBSTONED).
     * </pre>
     */
    default void tombstoneStream(io.datagw.v1.TombstoneStreamRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.TombstoneStreamResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTombstoneStreamMethod(), responseObserver);
    }

    /**
     * <pre>
     * The ordered history of one order, payment or user: who, what, when,
     * and the trace that did it.
     * </pre>
     */
    default void getAuditTrail(io.datagw.v1.GetAuditTrailRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetAuditTrailResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetAuditTrailMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service EventStoreService.
   * <pre>
   * The event store: the domain events every write appends on its shard, and
   * streams that services append themselves. Semantics: docs/events.md.
   * </pre>
   */
  public static abstract class EventStoreServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return EventStoreServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service EventStoreService.
   * <pre>
   * The event store: the domain events every write appends on its shard, and
   * streams that services append themselves. Semantics: docs/events.md.
   * </pre>
   */
  public static final class EventStoreServiceStub
      extends io.grpc.stub.AbstractAsyncStub<EventStoreServiceStub> {
    private EventStoreServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventStoreServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventStoreServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Appends events to one stream in one transaction, checking the expected
     * revision (ABORTED/WRONG_EXPECTED_VERSION with the current revision in
     * the details). Idempotent by event id: the same events appended again at
     * the same place succeed without duplicates; a partial overlap is
     * ALREADY_EXISTS/EVENT_IDS_OVERLAP.
     * </pre>
     */
    public void appendToStream(io.datagw.v1.AppendToStreamRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.AppendToStreamResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAppendToStreamMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads one stream forward or backward from a revision.
     * </pre>
     */
    public void readStream(io.datagw.v1.ReadStreamRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReadStreamResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getReadStreamMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads all events of every shard after a position vector, in each shard's
     * commit order; the response's position resumes the read.
     * </pre>
     */
    public void readAll(io.datagw.v1.ReadAllRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReadAllResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getReadAllMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Catch-up then live subscription to one stream.
     * </pre>
     */
    public void subscribeToStream(io.datagw.v1.SubscribeToStreamRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SubscribeToStreamResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getSubscribeToStreamMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Catch-up then live subscription to every shard, with checkpoints and a
     * caught_up marker. Never skips an event committed late by a concurrent
     * transaction; resuming from a checkpoint repeats nothing.
     * </pre>
     */
    public void subscribeToAll(io.datagw.v1.SubscribeToAllRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SubscribeToAllResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getSubscribeToAllMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * A stream's revision, retention and delete state.
     * </pre>
     */
    public void getStreamMetadata(io.datagw.v1.GetStreamMetadataRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetStreamMetadataResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetStreamMetadataMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Sets a stream's retention (max_age, max_count).
     * </pre>
     */
    public void setStreamMetadata(io.datagw.v1.SetStreamMetadataRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SetStreamMetadataResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSetStreamMetadataMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Soft delete: the stream reads as NOT_FOUND until the next append, which
     * continues its revisions; the old events are removed by retention.
     * </pre>
     */
    public void deleteStream(io.datagw.v1.DeleteStreamRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.DeleteStreamResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteStreamMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Hard delete: the events are removed and the stream name can never be
     * used again (FAILED_PRECONDITION/STREAM_TOMBSTONED).
     * </pre>
     */
    public void tombstoneStream(io.datagw.v1.TombstoneStreamRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.TombstoneStreamResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTombstoneStreamMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The ordered history of one order, payment or user: who, what, when,
     * and the trace that did it.
     * </pre>
     */
    public void getAuditTrail(io.datagw.v1.GetAuditTrailRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetAuditTrailResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetAuditTrailMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service EventStoreService.
   * <pre>
   * The event store: the domain events every write appends on its shard, and
   * streams that services append themselves. Semantics: docs/events.md.
   * </pre>
   */
  public static final class EventStoreServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<EventStoreServiceBlockingV2Stub> {
    private EventStoreServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventStoreServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventStoreServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Appends events to one stream in one transaction, checking the expected
     * revision (ABORTED/WRONG_EXPECTED_VERSION with the current revision in
     * the details). Idempotent by event id: the same events appended again at
     * the same place succeed without duplicates; a partial overlap is
     * ALREADY_EXISTS/EVENT_IDS_OVERLAP.
     * </pre>
     */
    public io.datagw.v1.AppendToStreamResponse appendToStream(io.datagw.v1.AppendToStreamRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAppendToStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads one stream forward or backward from a revision.
     * </pre>
     */
    public io.datagw.v1.ReadStreamResponse readStream(io.datagw.v1.ReadStreamRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getReadStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads all events of every shard after a position vector, in each shard's
     * commit order; the response's position resumes the read.
     * </pre>
     */
    public io.datagw.v1.ReadAllResponse readAll(io.datagw.v1.ReadAllRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getReadAllMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Catch-up then live subscription to one stream.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, io.datagw.v1.SubscribeToStreamResponse>
        subscribeToStream(io.datagw.v1.SubscribeToStreamRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getSubscribeToStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Catch-up then live subscription to every shard, with checkpoints and a
     * caught_up marker. Never skips an event committed late by a concurrent
     * transaction; resuming from a checkpoint repeats nothing.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, io.datagw.v1.SubscribeToAllResponse>
        subscribeToAll(io.datagw.v1.SubscribeToAllRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getSubscribeToAllMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * A stream's revision, retention and delete state.
     * </pre>
     */
    public io.datagw.v1.GetStreamMetadataResponse getStreamMetadata(io.datagw.v1.GetStreamMetadataRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetStreamMetadataMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sets a stream's retention (max_age, max_count).
     * </pre>
     */
    public io.datagw.v1.SetStreamMetadataResponse setStreamMetadata(io.datagw.v1.SetStreamMetadataRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSetStreamMetadataMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Soft delete: the stream reads as NOT_FOUND until the next append, which
     * continues its revisions; the old events are removed by retention.
     * </pre>
     */
    public io.datagw.v1.DeleteStreamResponse deleteStream(io.datagw.v1.DeleteStreamRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Hard delete: the events are removed and the stream name can never be
     * used again (FAILED_PRECONDITION/STREAM_TOMBSTONED).
     * </pre>
     */
    public io.datagw.v1.TombstoneStreamResponse tombstoneStream(io.datagw.v1.TombstoneStreamRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getTombstoneStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The ordered history of one order, payment or user: who, what, when,
     * and the trace that did it.
     * </pre>
     */
    public io.datagw.v1.GetAuditTrailResponse getAuditTrail(io.datagw.v1.GetAuditTrailRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetAuditTrailMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service EventStoreService.
   * <pre>
   * The event store: the domain events every write appends on its shard, and
   * streams that services append themselves. Semantics: docs/events.md.
   * </pre>
   */
  public static final class EventStoreServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<EventStoreServiceBlockingStub> {
    private EventStoreServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventStoreServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventStoreServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Appends events to one stream in one transaction, checking the expected
     * revision (ABORTED/WRONG_EXPECTED_VERSION with the current revision in
     * the details). Idempotent by event id: the same events appended again at
     * the same place succeed without duplicates; a partial overlap is
     * ALREADY_EXISTS/EVENT_IDS_OVERLAP.
     * </pre>
     */
    public io.datagw.v1.AppendToStreamResponse appendToStream(io.datagw.v1.AppendToStreamRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAppendToStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads one stream forward or backward from a revision.
     * </pre>
     */
    public io.datagw.v1.ReadStreamResponse readStream(io.datagw.v1.ReadStreamRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getReadStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads all events of every shard after a position vector, in each shard's
     * commit order; the response's position resumes the read.
     * </pre>
     */
    public io.datagw.v1.ReadAllResponse readAll(io.datagw.v1.ReadAllRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getReadAllMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Catch-up then live subscription to one stream.
     * </pre>
     */
    public java.util.Iterator<io.datagw.v1.SubscribeToStreamResponse> subscribeToStream(
        io.datagw.v1.SubscribeToStreamRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getSubscribeToStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Catch-up then live subscription to every shard, with checkpoints and a
     * caught_up marker. Never skips an event committed late by a concurrent
     * transaction; resuming from a checkpoint repeats nothing.
     * </pre>
     */
    public java.util.Iterator<io.datagw.v1.SubscribeToAllResponse> subscribeToAll(
        io.datagw.v1.SubscribeToAllRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getSubscribeToAllMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * A stream's revision, retention and delete state.
     * </pre>
     */
    public io.datagw.v1.GetStreamMetadataResponse getStreamMetadata(io.datagw.v1.GetStreamMetadataRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetStreamMetadataMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sets a stream's retention (max_age, max_count).
     * </pre>
     */
    public io.datagw.v1.SetStreamMetadataResponse setStreamMetadata(io.datagw.v1.SetStreamMetadataRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSetStreamMetadataMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Soft delete: the stream reads as NOT_FOUND until the next append, which
     * continues its revisions; the old events are removed by retention.
     * </pre>
     */
    public io.datagw.v1.DeleteStreamResponse deleteStream(io.datagw.v1.DeleteStreamRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Hard delete: the events are removed and the stream name can never be
     * used again (FAILED_PRECONDITION/STREAM_TOMBSTONED).
     * </pre>
     */
    public io.datagw.v1.TombstoneStreamResponse tombstoneStream(io.datagw.v1.TombstoneStreamRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTombstoneStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The ordered history of one order, payment or user: who, what, when,
     * and the trace that did it.
     * </pre>
     */
    public io.datagw.v1.GetAuditTrailResponse getAuditTrail(io.datagw.v1.GetAuditTrailRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetAuditTrailMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service EventStoreService.
   * <pre>
   * The event store: the domain events every write appends on its shard, and
   * streams that services append themselves. Semantics: docs/events.md.
   * </pre>
   */
  public static final class EventStoreServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<EventStoreServiceFutureStub> {
    private EventStoreServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EventStoreServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EventStoreServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Appends events to one stream in one transaction, checking the expected
     * revision (ABORTED/WRONG_EXPECTED_VERSION with the current revision in
     * the details). Idempotent by event id: the same events appended again at
     * the same place succeed without duplicates; a partial overlap is
     * ALREADY_EXISTS/EVENT_IDS_OVERLAP.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.AppendToStreamResponse> appendToStream(
        io.datagw.v1.AppendToStreamRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAppendToStreamMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads one stream forward or backward from a revision.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ReadStreamResponse> readStream(
        io.datagw.v1.ReadStreamRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getReadStreamMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads all events of every shard after a position vector, in each shard's
     * commit order; the response's position resumes the read.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ReadAllResponse> readAll(
        io.datagw.v1.ReadAllRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getReadAllMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * A stream's revision, retention and delete state.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetStreamMetadataResponse> getStreamMetadata(
        io.datagw.v1.GetStreamMetadataRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetStreamMetadataMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Sets a stream's retention (max_age, max_count).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.SetStreamMetadataResponse> setStreamMetadata(
        io.datagw.v1.SetStreamMetadataRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSetStreamMetadataMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Soft delete: the stream reads as NOT_FOUND until the next append, which
     * continues its revisions; the old events are removed by retention.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.DeleteStreamResponse> deleteStream(
        io.datagw.v1.DeleteStreamRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteStreamMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Hard delete: the events are removed and the stream name can never be
     * used again (FAILED_PRECONDITION/STREAM_TOMBSTONED).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.TombstoneStreamResponse> tombstoneStream(
        io.datagw.v1.TombstoneStreamRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTombstoneStreamMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The ordered history of one order, payment or user: who, what, when,
     * and the trace that did it.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetAuditTrailResponse> getAuditTrail(
        io.datagw.v1.GetAuditTrailRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetAuditTrailMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_APPEND_TO_STREAM = 0;
  private static final int METHODID_READ_STREAM = 1;
  private static final int METHODID_READ_ALL = 2;
  private static final int METHODID_SUBSCRIBE_TO_STREAM = 3;
  private static final int METHODID_SUBSCRIBE_TO_ALL = 4;
  private static final int METHODID_GET_STREAM_METADATA = 5;
  private static final int METHODID_SET_STREAM_METADATA = 6;
  private static final int METHODID_DELETE_STREAM = 7;
  private static final int METHODID_TOMBSTONE_STREAM = 8;
  private static final int METHODID_GET_AUDIT_TRAIL = 9;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_APPEND_TO_STREAM:
          serviceImpl.appendToStream((io.datagw.v1.AppendToStreamRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.AppendToStreamResponse>) responseObserver);
          break;
        case METHODID_READ_STREAM:
          serviceImpl.readStream((io.datagw.v1.ReadStreamRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ReadStreamResponse>) responseObserver);
          break;
        case METHODID_READ_ALL:
          serviceImpl.readAll((io.datagw.v1.ReadAllRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ReadAllResponse>) responseObserver);
          break;
        case METHODID_SUBSCRIBE_TO_STREAM:
          serviceImpl.subscribeToStream((io.datagw.v1.SubscribeToStreamRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.SubscribeToStreamResponse>) responseObserver);
          break;
        case METHODID_SUBSCRIBE_TO_ALL:
          serviceImpl.subscribeToAll((io.datagw.v1.SubscribeToAllRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.SubscribeToAllResponse>) responseObserver);
          break;
        case METHODID_GET_STREAM_METADATA:
          serviceImpl.getStreamMetadata((io.datagw.v1.GetStreamMetadataRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetStreamMetadataResponse>) responseObserver);
          break;
        case METHODID_SET_STREAM_METADATA:
          serviceImpl.setStreamMetadata((io.datagw.v1.SetStreamMetadataRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.SetStreamMetadataResponse>) responseObserver);
          break;
        case METHODID_DELETE_STREAM:
          serviceImpl.deleteStream((io.datagw.v1.DeleteStreamRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.DeleteStreamResponse>) responseObserver);
          break;
        case METHODID_TOMBSTONE_STREAM:
          serviceImpl.tombstoneStream((io.datagw.v1.TombstoneStreamRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.TombstoneStreamResponse>) responseObserver);
          break;
        case METHODID_GET_AUDIT_TRAIL:
          serviceImpl.getAuditTrail((io.datagw.v1.GetAuditTrailRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetAuditTrailResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getAppendToStreamMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.AppendToStreamRequest,
              io.datagw.v1.AppendToStreamResponse>(
                service, METHODID_APPEND_TO_STREAM)))
        .addMethod(
          getReadStreamMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ReadStreamRequest,
              io.datagw.v1.ReadStreamResponse>(
                service, METHODID_READ_STREAM)))
        .addMethod(
          getReadAllMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ReadAllRequest,
              io.datagw.v1.ReadAllResponse>(
                service, METHODID_READ_ALL)))
        .addMethod(
          getSubscribeToStreamMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              io.datagw.v1.SubscribeToStreamRequest,
              io.datagw.v1.SubscribeToStreamResponse>(
                service, METHODID_SUBSCRIBE_TO_STREAM)))
        .addMethod(
          getSubscribeToAllMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              io.datagw.v1.SubscribeToAllRequest,
              io.datagw.v1.SubscribeToAllResponse>(
                service, METHODID_SUBSCRIBE_TO_ALL)))
        .addMethod(
          getGetStreamMetadataMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetStreamMetadataRequest,
              io.datagw.v1.GetStreamMetadataResponse>(
                service, METHODID_GET_STREAM_METADATA)))
        .addMethod(
          getSetStreamMetadataMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.SetStreamMetadataRequest,
              io.datagw.v1.SetStreamMetadataResponse>(
                service, METHODID_SET_STREAM_METADATA)))
        .addMethod(
          getDeleteStreamMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.DeleteStreamRequest,
              io.datagw.v1.DeleteStreamResponse>(
                service, METHODID_DELETE_STREAM)))
        .addMethod(
          getTombstoneStreamMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.TombstoneStreamRequest,
              io.datagw.v1.TombstoneStreamResponse>(
                service, METHODID_TOMBSTONE_STREAM)))
        .addMethod(
          getGetAuditTrailMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetAuditTrailRequest,
              io.datagw.v1.GetAuditTrailResponse>(
                service, METHODID_GET_AUDIT_TRAIL)))
        .build();
  }

  private static abstract class EventStoreServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    EventStoreServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.datagw.v1.Eventstore.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("EventStoreService");
    }
  }

  private static final class EventStoreServiceFileDescriptorSupplier
      extends EventStoreServiceBaseDescriptorSupplier {
    EventStoreServiceFileDescriptorSupplier() {}
  }

  private static final class EventStoreServiceMethodDescriptorSupplier
      extends EventStoreServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    EventStoreServiceMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (EventStoreServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new EventStoreServiceFileDescriptorSupplier())
              .addMethod(getAppendToStreamMethod())
              .addMethod(getReadStreamMethod())
              .addMethod(getReadAllMethod())
              .addMethod(getSubscribeToStreamMethod())
              .addMethod(getSubscribeToAllMethod())
              .addMethod(getGetStreamMetadataMethod())
              .addMethod(getSetStreamMetadataMethod())
              .addMethod(getDeleteStreamMethod())
              .addMethod(getTombstoneStreamMethod())
              .addMethod(getGetAuditTrailMethod())
              .build();
        }
      }
    }
    return result;
  }
}
