package io.datagw.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Stock per sku in the unsharded inventory keyspace. Stock never goes
 * negative and is never oversold: available = on_hand - reserved, and a
 * reservation only succeeds while available covers it.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class InventoryServiceGrpc {

  private InventoryServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "datagw.v1.InventoryService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.SetStockRequest,
      io.datagw.v1.SetStockResponse> getSetStockMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SetStock",
      requestType = io.datagw.v1.SetStockRequest.class,
      responseType = io.datagw.v1.SetStockResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.SetStockRequest,
      io.datagw.v1.SetStockResponse> getSetStockMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.SetStockRequest, io.datagw.v1.SetStockResponse> getSetStockMethod;
    if ((getSetStockMethod = InventoryServiceGrpc.getSetStockMethod) == null) {
      synchronized (InventoryServiceGrpc.class) {
        if ((getSetStockMethod = InventoryServiceGrpc.getSetStockMethod) == null) {
          InventoryServiceGrpc.getSetStockMethod = getSetStockMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.SetStockRequest, io.datagw.v1.SetStockResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SetStock"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SetStockRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SetStockResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InventoryServiceMethodDescriptorSupplier("SetStock"))
              .build();
        }
      }
    }
    return getSetStockMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.AdjustStockRequest,
      io.datagw.v1.AdjustStockResponse> getAdjustStockMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AdjustStock",
      requestType = io.datagw.v1.AdjustStockRequest.class,
      responseType = io.datagw.v1.AdjustStockResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.AdjustStockRequest,
      io.datagw.v1.AdjustStockResponse> getAdjustStockMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.AdjustStockRequest, io.datagw.v1.AdjustStockResponse> getAdjustStockMethod;
    if ((getAdjustStockMethod = InventoryServiceGrpc.getAdjustStockMethod) == null) {
      synchronized (InventoryServiceGrpc.class) {
        if ((getAdjustStockMethod = InventoryServiceGrpc.getAdjustStockMethod) == null) {
          InventoryServiceGrpc.getAdjustStockMethod = getAdjustStockMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.AdjustStockRequest, io.datagw.v1.AdjustStockResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AdjustStock"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.AdjustStockRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.AdjustStockResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InventoryServiceMethodDescriptorSupplier("AdjustStock"))
              .build();
        }
      }
    }
    return getAdjustStockMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetStockRequest,
      io.datagw.v1.GetStockResponse> getGetStockMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetStock",
      requestType = io.datagw.v1.GetStockRequest.class,
      responseType = io.datagw.v1.GetStockResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetStockRequest,
      io.datagw.v1.GetStockResponse> getGetStockMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetStockRequest, io.datagw.v1.GetStockResponse> getGetStockMethod;
    if ((getGetStockMethod = InventoryServiceGrpc.getGetStockMethod) == null) {
      synchronized (InventoryServiceGrpc.class) {
        if ((getGetStockMethod = InventoryServiceGrpc.getGetStockMethod) == null) {
          InventoryServiceGrpc.getGetStockMethod = getGetStockMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetStockRequest, io.datagw.v1.GetStockResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetStock"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetStockRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetStockResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InventoryServiceMethodDescriptorSupplier("GetStock"))
              .build();
        }
      }
    }
    return getGetStockMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ReserveStockRequest,
      io.datagw.v1.ReserveStockResponse> getReserveStockMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ReserveStock",
      requestType = io.datagw.v1.ReserveStockRequest.class,
      responseType = io.datagw.v1.ReserveStockResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ReserveStockRequest,
      io.datagw.v1.ReserveStockResponse> getReserveStockMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ReserveStockRequest, io.datagw.v1.ReserveStockResponse> getReserveStockMethod;
    if ((getReserveStockMethod = InventoryServiceGrpc.getReserveStockMethod) == null) {
      synchronized (InventoryServiceGrpc.class) {
        if ((getReserveStockMethod = InventoryServiceGrpc.getReserveStockMethod) == null) {
          InventoryServiceGrpc.getReserveStockMethod = getReserveStockMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ReserveStockRequest, io.datagw.v1.ReserveStockResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ReserveStock"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReserveStockRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReserveStockResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InventoryServiceMethodDescriptorSupplier("ReserveStock"))
              .build();
        }
      }
    }
    return getReserveStockMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.CommitReservationRequest,
      io.datagw.v1.CommitReservationResponse> getCommitReservationMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CommitReservation",
      requestType = io.datagw.v1.CommitReservationRequest.class,
      responseType = io.datagw.v1.CommitReservationResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.CommitReservationRequest,
      io.datagw.v1.CommitReservationResponse> getCommitReservationMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.CommitReservationRequest, io.datagw.v1.CommitReservationResponse> getCommitReservationMethod;
    if ((getCommitReservationMethod = InventoryServiceGrpc.getCommitReservationMethod) == null) {
      synchronized (InventoryServiceGrpc.class) {
        if ((getCommitReservationMethod = InventoryServiceGrpc.getCommitReservationMethod) == null) {
          InventoryServiceGrpc.getCommitReservationMethod = getCommitReservationMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.CommitReservationRequest, io.datagw.v1.CommitReservationResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CommitReservation"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.CommitReservationRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.CommitReservationResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InventoryServiceMethodDescriptorSupplier("CommitReservation"))
              .build();
        }
      }
    }
    return getCommitReservationMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ReleaseReservationRequest,
      io.datagw.v1.ReleaseReservationResponse> getReleaseReservationMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ReleaseReservation",
      requestType = io.datagw.v1.ReleaseReservationRequest.class,
      responseType = io.datagw.v1.ReleaseReservationResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ReleaseReservationRequest,
      io.datagw.v1.ReleaseReservationResponse> getReleaseReservationMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ReleaseReservationRequest, io.datagw.v1.ReleaseReservationResponse> getReleaseReservationMethod;
    if ((getReleaseReservationMethod = InventoryServiceGrpc.getReleaseReservationMethod) == null) {
      synchronized (InventoryServiceGrpc.class) {
        if ((getReleaseReservationMethod = InventoryServiceGrpc.getReleaseReservationMethod) == null) {
          InventoryServiceGrpc.getReleaseReservationMethod = getReleaseReservationMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ReleaseReservationRequest, io.datagw.v1.ReleaseReservationResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ReleaseReservation"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReleaseReservationRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReleaseReservationResponse.getDefaultInstance()))
              .setSchemaDescriptor(new InventoryServiceMethodDescriptorSupplier("ReleaseReservation"))
              .build();
        }
      }
    }
    return getReleaseReservationMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static InventoryServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<InventoryServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<InventoryServiceStub>() {
        @java.lang.Override
        public InventoryServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new InventoryServiceStub(channel, callOptions);
        }
      };
    return InventoryServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static InventoryServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<InventoryServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<InventoryServiceBlockingV2Stub>() {
        @java.lang.Override
        public InventoryServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new InventoryServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return InventoryServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static InventoryServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<InventoryServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<InventoryServiceBlockingStub>() {
        @java.lang.Override
        public InventoryServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new InventoryServiceBlockingStub(channel, callOptions);
        }
      };
    return InventoryServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static InventoryServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<InventoryServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<InventoryServiceFutureStub>() {
        @java.lang.Override
        public InventoryServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new InventoryServiceFutureStub(channel, callOptions);
        }
      };
    return InventoryServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Stock per sku in the unsharded inventory keyspace. Stock never goes
   * negative and is never oversold: available = on_hand - reserved, and a
   * reservation only succeeds while available covers it.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Sets the on-hand quantity of a sku (creating its stock row).
     * </pre>
     */
    default void setStock(io.datagw.v1.SetStockRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SetStockResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSetStockMethod(), responseObserver);
    }

    /**
     * <pre>
     * Adds (delta &gt; 0) or removes (delta &lt; 0) on-hand units. Removing more than
     * is available is FAILED_PRECONDITION/INSUFFICIENT_STOCK.
     * </pre>
     */
    default void adjustStock(io.datagw.v1.AdjustStockRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.AdjustStockResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAdjustStockMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads the stock of a sku.
     * </pre>
     */
    default void getStock(io.datagw.v1.GetStockRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetStockResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetStockMethod(), responseObserver);
    }

    /**
     * <pre>
     * Holds units of several skus for a while (all or nothing).
     * </pre>
     */
    default void reserveStock(io.datagw.v1.ReserveStockRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReserveStockResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getReserveStockMethod(), responseObserver);
    }

    /**
     * <pre>
     * Turns a held reservation into a sale: on_hand and reserved both drop.
     * </pre>
     */
    default void commitReservation(io.datagw.v1.CommitReservationRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.CommitReservationResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCommitReservationMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gives the units of a held reservation back.
     * </pre>
     */
    default void releaseReservation(io.datagw.v1.ReleaseReservationRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReleaseReservationResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getReleaseReservationMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service InventoryService.
   * <pre>
   * Stock per sku in the unsharded inventory keyspace. Stock never goes
   * negative and is never oversold: available = on_hand - reserved, and a
   * reservation only succeeds while available covers it.
   * </pre>
   */
  public static abstract class InventoryServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return InventoryServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service InventoryService.
   * <pre>
   * Stock per sku in the unsharded inventory keyspace. Stock never goes
   * negative and is never oversold: available = on_hand - reserved, and a
   * reservation only succeeds while available covers it.
   * </pre>
   */
  public static final class InventoryServiceStub
      extends io.grpc.stub.AbstractAsyncStub<InventoryServiceStub> {
    private InventoryServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected InventoryServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new InventoryServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Sets the on-hand quantity of a sku (creating its stock row).
     * </pre>
     */
    public void setStock(io.datagw.v1.SetStockRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SetStockResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSetStockMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Adds (delta &gt; 0) or removes (delta &lt; 0) on-hand units. Removing more than
     * is available is FAILED_PRECONDITION/INSUFFICIENT_STOCK.
     * </pre>
     */
    public void adjustStock(io.datagw.v1.AdjustStockRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.AdjustStockResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAdjustStockMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads the stock of a sku.
     * </pre>
     */
    public void getStock(io.datagw.v1.GetStockRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetStockResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetStockMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Holds units of several skus for a while (all or nothing).
     * </pre>
     */
    public void reserveStock(io.datagw.v1.ReserveStockRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReserveStockResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getReserveStockMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Turns a held reservation into a sale: on_hand and reserved both drop.
     * </pre>
     */
    public void commitReservation(io.datagw.v1.CommitReservationRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.CommitReservationResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCommitReservationMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gives the units of a held reservation back.
     * </pre>
     */
    public void releaseReservation(io.datagw.v1.ReleaseReservationRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReleaseReservationResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getReleaseReservationMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service InventoryService.
   * <pre>
   * Stock per sku in the unsharded inventory keyspace. Stock never goes
   * negative and is never oversold: available = on_hand - reserved, and a
   * reservation only succeeds while available covers it.
   * </pre>
   */
  public static final class InventoryServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<InventoryServiceBlockingV2Stub> {
    private InventoryServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected InventoryServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new InventoryServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Sets the on-hand quantity of a sku (creating its stock row).
     * </pre>
     */
    public io.datagw.v1.SetStockResponse setStock(io.datagw.v1.SetStockRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSetStockMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Adds (delta &gt; 0) or removes (delta &lt; 0) on-hand units. Removing more than
     * is available is FAILED_PRECONDITION/INSUFFICIENT_STOCK.
     * </pre>
     */
    public io.datagw.v1.AdjustStockResponse adjustStock(io.datagw.v1.AdjustStockRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAdjustStockMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads the stock of a sku.
     * </pre>
     */
    public io.datagw.v1.GetStockResponse getStock(io.datagw.v1.GetStockRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetStockMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Holds units of several skus for a while (all or nothing).
     * </pre>
     */
    public io.datagw.v1.ReserveStockResponse reserveStock(io.datagw.v1.ReserveStockRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getReserveStockMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Turns a held reservation into a sale: on_hand and reserved both drop.
     * </pre>
     */
    public io.datagw.v1.CommitReservationResponse commitReservation(io.datagw.v1.CommitReservationRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCommitReservationMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gives the units of a held reservation back.
     * </pre>
     */
    public io.datagw.v1.ReleaseReservationResponse releaseReservation(io.datagw.v1.ReleaseReservationRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getReleaseReservationMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service InventoryService.
   * <pre>
   * Stock per sku in the unsharded inventory keyspace. Stock never goes
   * negative and is never oversold: available = on_hand - reserved, and a
   * reservation only succeeds while available covers it.
   * </pre>
   */
  public static final class InventoryServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<InventoryServiceBlockingStub> {
    private InventoryServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected InventoryServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new InventoryServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Sets the on-hand quantity of a sku (creating its stock row).
     * </pre>
     */
    public io.datagw.v1.SetStockResponse setStock(io.datagw.v1.SetStockRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSetStockMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Adds (delta &gt; 0) or removes (delta &lt; 0) on-hand units. Removing more than
     * is available is FAILED_PRECONDITION/INSUFFICIENT_STOCK.
     * </pre>
     */
    public io.datagw.v1.AdjustStockResponse adjustStock(io.datagw.v1.AdjustStockRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAdjustStockMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads the stock of a sku.
     * </pre>
     */
    public io.datagw.v1.GetStockResponse getStock(io.datagw.v1.GetStockRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetStockMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Holds units of several skus for a while (all or nothing).
     * </pre>
     */
    public io.datagw.v1.ReserveStockResponse reserveStock(io.datagw.v1.ReserveStockRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getReserveStockMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Turns a held reservation into a sale: on_hand and reserved both drop.
     * </pre>
     */
    public io.datagw.v1.CommitReservationResponse commitReservation(io.datagw.v1.CommitReservationRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCommitReservationMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gives the units of a held reservation back.
     * </pre>
     */
    public io.datagw.v1.ReleaseReservationResponse releaseReservation(io.datagw.v1.ReleaseReservationRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getReleaseReservationMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service InventoryService.
   * <pre>
   * Stock per sku in the unsharded inventory keyspace. Stock never goes
   * negative and is never oversold: available = on_hand - reserved, and a
   * reservation only succeeds while available covers it.
   * </pre>
   */
  public static final class InventoryServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<InventoryServiceFutureStub> {
    private InventoryServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected InventoryServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new InventoryServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Sets the on-hand quantity of a sku (creating its stock row).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.SetStockResponse> setStock(
        io.datagw.v1.SetStockRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSetStockMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Adds (delta &gt; 0) or removes (delta &lt; 0) on-hand units. Removing more than
     * is available is FAILED_PRECONDITION/INSUFFICIENT_STOCK.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.AdjustStockResponse> adjustStock(
        io.datagw.v1.AdjustStockRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAdjustStockMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads the stock of a sku.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetStockResponse> getStock(
        io.datagw.v1.GetStockRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetStockMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Holds units of several skus for a while (all or nothing).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ReserveStockResponse> reserveStock(
        io.datagw.v1.ReserveStockRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getReserveStockMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Turns a held reservation into a sale: on_hand and reserved both drop.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.CommitReservationResponse> commitReservation(
        io.datagw.v1.CommitReservationRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCommitReservationMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gives the units of a held reservation back.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ReleaseReservationResponse> releaseReservation(
        io.datagw.v1.ReleaseReservationRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getReleaseReservationMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_SET_STOCK = 0;
  private static final int METHODID_ADJUST_STOCK = 1;
  private static final int METHODID_GET_STOCK = 2;
  private static final int METHODID_RESERVE_STOCK = 3;
  private static final int METHODID_COMMIT_RESERVATION = 4;
  private static final int METHODID_RELEASE_RESERVATION = 5;

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
        case METHODID_SET_STOCK:
          serviceImpl.setStock((io.datagw.v1.SetStockRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.SetStockResponse>) responseObserver);
          break;
        case METHODID_ADJUST_STOCK:
          serviceImpl.adjustStock((io.datagw.v1.AdjustStockRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.AdjustStockResponse>) responseObserver);
          break;
        case METHODID_GET_STOCK:
          serviceImpl.getStock((io.datagw.v1.GetStockRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetStockResponse>) responseObserver);
          break;
        case METHODID_RESERVE_STOCK:
          serviceImpl.reserveStock((io.datagw.v1.ReserveStockRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ReserveStockResponse>) responseObserver);
          break;
        case METHODID_COMMIT_RESERVATION:
          serviceImpl.commitReservation((io.datagw.v1.CommitReservationRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.CommitReservationResponse>) responseObserver);
          break;
        case METHODID_RELEASE_RESERVATION:
          serviceImpl.releaseReservation((io.datagw.v1.ReleaseReservationRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ReleaseReservationResponse>) responseObserver);
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
          getSetStockMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.SetStockRequest,
              io.datagw.v1.SetStockResponse>(
                service, METHODID_SET_STOCK)))
        .addMethod(
          getAdjustStockMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.AdjustStockRequest,
              io.datagw.v1.AdjustStockResponse>(
                service, METHODID_ADJUST_STOCK)))
        .addMethod(
          getGetStockMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetStockRequest,
              io.datagw.v1.GetStockResponse>(
                service, METHODID_GET_STOCK)))
        .addMethod(
          getReserveStockMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ReserveStockRequest,
              io.datagw.v1.ReserveStockResponse>(
                service, METHODID_RESERVE_STOCK)))
        .addMethod(
          getCommitReservationMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.CommitReservationRequest,
              io.datagw.v1.CommitReservationResponse>(
                service, METHODID_COMMIT_RESERVATION)))
        .addMethod(
          getReleaseReservationMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ReleaseReservationRequest,
              io.datagw.v1.ReleaseReservationResponse>(
                service, METHODID_RELEASE_RESERVATION)))
        .build();
  }

  private static abstract class InventoryServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    InventoryServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.datagw.v1.Inventory.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("InventoryService");
    }
  }

  private static final class InventoryServiceFileDescriptorSupplier
      extends InventoryServiceBaseDescriptorSupplier {
    InventoryServiceFileDescriptorSupplier() {}
  }

  private static final class InventoryServiceMethodDescriptorSupplier
      extends InventoryServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    InventoryServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (InventoryServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new InventoryServiceFileDescriptorSupplier())
              .addMethod(getSetStockMethod())
              .addMethod(getAdjustStockMethod())
              .addMethod(getGetStockMethod())
              .addMethod(getReserveStockMethod())
              .addMethod(getCommitReservationMethod())
              .addMethod(getReleaseReservationMethod())
              .build();
        }
      }
    }
    return result;
  }
}
