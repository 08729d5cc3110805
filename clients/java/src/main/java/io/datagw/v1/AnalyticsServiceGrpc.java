package io.datagw.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Real-time analytics on ClickHouse: behaviour events sent by services, the
 * domain events the relay copies from the shards, and typed reports over
 * both. Semantics and limits: docs/analytics.md.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class AnalyticsServiceGrpc {

  private AnalyticsServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "datagw.v1.AnalyticsService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.IngestEventsRequest,
      io.datagw.v1.IngestEventsResponse> getIngestEventsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "IngestEvents",
      requestType = io.datagw.v1.IngestEventsRequest.class,
      responseType = io.datagw.v1.IngestEventsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
  public static io.grpc.MethodDescriptor<io.datagw.v1.IngestEventsRequest,
      io.datagw.v1.IngestEventsResponse> getIngestEventsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.IngestEventsRequest, io.datagw.v1.IngestEventsResponse> getIngestEventsMethod;
    if ((getIngestEventsMethod = AnalyticsServiceGrpc.getIngestEventsMethod) == null) {
      synchronized (AnalyticsServiceGrpc.class) {
        if ((getIngestEventsMethod = AnalyticsServiceGrpc.getIngestEventsMethod) == null) {
          AnalyticsServiceGrpc.getIngestEventsMethod = getIngestEventsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.IngestEventsRequest, io.datagw.v1.IngestEventsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "IngestEvents"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.IngestEventsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.IngestEventsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AnalyticsServiceMethodDescriptorSupplier("IngestEvents"))
              .build();
        }
      }
    }
    return getIngestEventsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.SalesSummaryRequest,
      io.datagw.v1.SalesSummaryResponse> getSalesSummaryMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SalesSummary",
      requestType = io.datagw.v1.SalesSummaryRequest.class,
      responseType = io.datagw.v1.SalesSummaryResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.SalesSummaryRequest,
      io.datagw.v1.SalesSummaryResponse> getSalesSummaryMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.SalesSummaryRequest, io.datagw.v1.SalesSummaryResponse> getSalesSummaryMethod;
    if ((getSalesSummaryMethod = AnalyticsServiceGrpc.getSalesSummaryMethod) == null) {
      synchronized (AnalyticsServiceGrpc.class) {
        if ((getSalesSummaryMethod = AnalyticsServiceGrpc.getSalesSummaryMethod) == null) {
          AnalyticsServiceGrpc.getSalesSummaryMethod = getSalesSummaryMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.SalesSummaryRequest, io.datagw.v1.SalesSummaryResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SalesSummary"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SalesSummaryRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SalesSummaryResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AnalyticsServiceMethodDescriptorSupplier("SalesSummary"))
              .build();
        }
      }
    }
    return getSalesSummaryMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.TopProductsRequest,
      io.datagw.v1.TopProductsResponse> getTopProductsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "TopProducts",
      requestType = io.datagw.v1.TopProductsRequest.class,
      responseType = io.datagw.v1.TopProductsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.TopProductsRequest,
      io.datagw.v1.TopProductsResponse> getTopProductsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.TopProductsRequest, io.datagw.v1.TopProductsResponse> getTopProductsMethod;
    if ((getTopProductsMethod = AnalyticsServiceGrpc.getTopProductsMethod) == null) {
      synchronized (AnalyticsServiceGrpc.class) {
        if ((getTopProductsMethod = AnalyticsServiceGrpc.getTopProductsMethod) == null) {
          AnalyticsServiceGrpc.getTopProductsMethod = getTopProductsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.TopProductsRequest, io.datagw.v1.TopProductsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "TopProducts"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.TopProductsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.TopProductsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AnalyticsServiceMethodDescriptorSupplier("TopProducts"))
              .build();
        }
      }
    }
    return getTopProductsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ConversionFunnelRequest,
      io.datagw.v1.ConversionFunnelResponse> getConversionFunnelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ConversionFunnel",
      requestType = io.datagw.v1.ConversionFunnelRequest.class,
      responseType = io.datagw.v1.ConversionFunnelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ConversionFunnelRequest,
      io.datagw.v1.ConversionFunnelResponse> getConversionFunnelMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ConversionFunnelRequest, io.datagw.v1.ConversionFunnelResponse> getConversionFunnelMethod;
    if ((getConversionFunnelMethod = AnalyticsServiceGrpc.getConversionFunnelMethod) == null) {
      synchronized (AnalyticsServiceGrpc.class) {
        if ((getConversionFunnelMethod = AnalyticsServiceGrpc.getConversionFunnelMethod) == null) {
          AnalyticsServiceGrpc.getConversionFunnelMethod = getConversionFunnelMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ConversionFunnelRequest, io.datagw.v1.ConversionFunnelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ConversionFunnel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ConversionFunnelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ConversionFunnelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AnalyticsServiceMethodDescriptorSupplier("ConversionFunnel"))
              .build();
        }
      }
    }
    return getConversionFunnelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ActiveUsersRequest,
      io.datagw.v1.ActiveUsersResponse> getActiveUsersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ActiveUsers",
      requestType = io.datagw.v1.ActiveUsersRequest.class,
      responseType = io.datagw.v1.ActiveUsersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ActiveUsersRequest,
      io.datagw.v1.ActiveUsersResponse> getActiveUsersMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ActiveUsersRequest, io.datagw.v1.ActiveUsersResponse> getActiveUsersMethod;
    if ((getActiveUsersMethod = AnalyticsServiceGrpc.getActiveUsersMethod) == null) {
      synchronized (AnalyticsServiceGrpc.class) {
        if ((getActiveUsersMethod = AnalyticsServiceGrpc.getActiveUsersMethod) == null) {
          AnalyticsServiceGrpc.getActiveUsersMethod = getActiveUsersMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ActiveUsersRequest, io.datagw.v1.ActiveUsersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ActiveUsers"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ActiveUsersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ActiveUsersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AnalyticsServiceMethodDescriptorSupplier("ActiveUsers"))
              .build();
        }
      }
    }
    return getActiveUsersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.RunQueryRequest,
      io.datagw.v1.RunQueryResponse> getRunQueryMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RunQuery",
      requestType = io.datagw.v1.RunQueryRequest.class,
      responseType = io.datagw.v1.RunQueryResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.RunQueryRequest,
      io.datagw.v1.RunQueryResponse> getRunQueryMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.RunQueryRequest, io.datagw.v1.RunQueryResponse> getRunQueryMethod;
    if ((getRunQueryMethod = AnalyticsServiceGrpc.getRunQueryMethod) == null) {
      synchronized (AnalyticsServiceGrpc.class) {
        if ((getRunQueryMethod = AnalyticsServiceGrpc.getRunQueryMethod) == null) {
          AnalyticsServiceGrpc.getRunQueryMethod = getRunQueryMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.RunQueryRequest, io.datagw.v1.RunQueryResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RunQuery"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.RunQueryRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.RunQueryResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AnalyticsServiceMethodDescriptorSupplier("RunQuery"))
              .build();
        }
      }
    }
    return getRunQueryMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static AnalyticsServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AnalyticsServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AnalyticsServiceStub>() {
        @java.lang.Override
        public AnalyticsServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AnalyticsServiceStub(channel, callOptions);
        }
      };
    return AnalyticsServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static AnalyticsServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AnalyticsServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AnalyticsServiceBlockingV2Stub>() {
        @java.lang.Override
        public AnalyticsServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AnalyticsServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return AnalyticsServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static AnalyticsServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AnalyticsServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AnalyticsServiceBlockingStub>() {
        @java.lang.Override
        public AnalyticsServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AnalyticsServiceBlockingStub(channel, callOptions);
        }
      };
    return AnalyticsServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static AnalyticsServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AnalyticsServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AnalyticsServiceFutureStub>() {
        @java.lang.Override
        public AnalyticsServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AnalyticsServiceFutureStub(channel, callOptions);
        }
      };
    return AnalyticsServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Real-time analytics on ClickHouse: behaviour events sent by services, the
   * domain events the relay copies from the shards, and typed reports over
   * both. Semantics and limits: docs/analytics.md.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Client streaming: batches of behaviour events (page views, searches,
     * add-to-cart ...). Each event is checked on its own; the response counts
     * the accepted and rejected ones and says why each rejected one was.
     * </pre>
     */
    default io.grpc.stub.StreamObserver<io.datagw.v1.IngestEventsRequest> ingestEvents(
        io.grpc.stub.StreamObserver<io.datagw.v1.IngestEventsResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getIngestEventsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Revenue, orders and average order value per day or hour.
     * </pre>
     */
    default void salesSummary(io.datagw.v1.SalesSummaryRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SalesSummaryResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSalesSummaryMethod(), responseObserver);
    }

    /**
     * <pre>
     * Best-selling products by revenue or units.
     * </pre>
     */
    default void topProducts(io.datagw.v1.TopProductsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.TopProductsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTopProductsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Product view -&gt; add to cart -&gt; order, per day.
     * </pre>
     */
    default void conversionFunnel(io.datagw.v1.ConversionFunnelRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ConversionFunnelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getConversionFunnelMethod(), responseObserver);
    }

    /**
     * <pre>
     * Distinct active users per day, week or month.
     * </pre>
     */
    default void activeUsers(io.datagw.v1.ActiveUsersRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ActiveUsersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getActiveUsersMethod(), responseObserver);
    }

    /**
     * <pre>
     * Read-only SQL over the allow-listed analytics tables, with parameters,
     * a time limit and a row limit. Anything else is INVALID_ARGUMENT or
     * RESOURCE_EXHAUSTED with the reason in the details.
     * </pre>
     */
    default void runQuery(io.datagw.v1.RunQueryRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.RunQueryResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRunQueryMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service AnalyticsService.
   * <pre>
   * Real-time analytics on ClickHouse: behaviour events sent by services, the
   * domain events the relay copies from the shards, and typed reports over
   * both. Semantics and limits: docs/analytics.md.
   * </pre>
   */
  public static abstract class AnalyticsServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return AnalyticsServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service AnalyticsService.
   * <pre>
   * Real-time analytics on ClickHouse: behaviour events sent by services, the
   * domain events the relay copies from the shards, and typed reports over
   * both. Semantics and limits: docs/analytics.md.
   * </pre>
   */
  public static final class AnalyticsServiceStub
      extends io.grpc.stub.AbstractAsyncStub<AnalyticsServiceStub> {
    private AnalyticsServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AnalyticsServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AnalyticsServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Client streaming: batches of behaviour events (page views, searches,
     * add-to-cart ...). Each event is checked on its own; the response counts
     * the accepted and rejected ones and says why each rejected one was.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<io.datagw.v1.IngestEventsRequest> ingestEvents(
        io.grpc.stub.StreamObserver<io.datagw.v1.IngestEventsResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncClientStreamingCall(
          getChannel().newCall(getIngestEventsMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * Revenue, orders and average order value per day or hour.
     * </pre>
     */
    public void salesSummary(io.datagw.v1.SalesSummaryRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SalesSummaryResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSalesSummaryMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Best-selling products by revenue or units.
     * </pre>
     */
    public void topProducts(io.datagw.v1.TopProductsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.TopProductsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTopProductsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Product view -&gt; add to cart -&gt; order, per day.
     * </pre>
     */
    public void conversionFunnel(io.datagw.v1.ConversionFunnelRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ConversionFunnelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getConversionFunnelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Distinct active users per day, week or month.
     * </pre>
     */
    public void activeUsers(io.datagw.v1.ActiveUsersRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ActiveUsersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getActiveUsersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Read-only SQL over the allow-listed analytics tables, with parameters,
     * a time limit and a row limit. Anything else is INVALID_ARGUMENT or
     * RESOURCE_EXHAUSTED with the reason in the details.
     * </pre>
     */
    public void runQuery(io.datagw.v1.RunQueryRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.RunQueryResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRunQueryMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service AnalyticsService.
   * <pre>
   * Real-time analytics on ClickHouse: behaviour events sent by services, the
   * domain events the relay copies from the shards, and typed reports over
   * both. Semantics and limits: docs/analytics.md.
   * </pre>
   */
  public static final class AnalyticsServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<AnalyticsServiceBlockingV2Stub> {
    private AnalyticsServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AnalyticsServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AnalyticsServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Client streaming: batches of behaviour events (page views, searches,
     * add-to-cart ...). Each event is checked on its own; the response counts
     * the accepted and rejected ones and says why each rejected one was.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<io.datagw.v1.IngestEventsRequest, io.datagw.v1.IngestEventsResponse>
        ingestEvents() {
      return io.grpc.stub.ClientCalls.blockingClientStreamingCall(
          getChannel(), getIngestEventsMethod(), getCallOptions());
    }

    /**
     * <pre>
     * Revenue, orders and average order value per day or hour.
     * </pre>
     */
    public io.datagw.v1.SalesSummaryResponse salesSummary(io.datagw.v1.SalesSummaryRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSalesSummaryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Best-selling products by revenue or units.
     * </pre>
     */
    public io.datagw.v1.TopProductsResponse topProducts(io.datagw.v1.TopProductsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getTopProductsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Product view -&gt; add to cart -&gt; order, per day.
     * </pre>
     */
    public io.datagw.v1.ConversionFunnelResponse conversionFunnel(io.datagw.v1.ConversionFunnelRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getConversionFunnelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Distinct active users per day, week or month.
     * </pre>
     */
    public io.datagw.v1.ActiveUsersResponse activeUsers(io.datagw.v1.ActiveUsersRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getActiveUsersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Read-only SQL over the allow-listed analytics tables, with parameters,
     * a time limit and a row limit. Anything else is INVALID_ARGUMENT or
     * RESOURCE_EXHAUSTED with the reason in the details.
     * </pre>
     */
    public io.datagw.v1.RunQueryResponse runQuery(io.datagw.v1.RunQueryRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getRunQueryMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service AnalyticsService.
   * <pre>
   * Real-time analytics on ClickHouse: behaviour events sent by services, the
   * domain events the relay copies from the shards, and typed reports over
   * both. Semantics and limits: docs/analytics.md.
   * </pre>
   */
  public static final class AnalyticsServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<AnalyticsServiceBlockingStub> {
    private AnalyticsServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AnalyticsServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AnalyticsServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Revenue, orders and average order value per day or hour.
     * </pre>
     */
    public io.datagw.v1.SalesSummaryResponse salesSummary(io.datagw.v1.SalesSummaryRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSalesSummaryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Best-selling products by revenue or units.
     * </pre>
     */
    public io.datagw.v1.TopProductsResponse topProducts(io.datagw.v1.TopProductsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTopProductsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Product view -&gt; add to cart -&gt; order, per day.
     * </pre>
     */
    public io.datagw.v1.ConversionFunnelResponse conversionFunnel(io.datagw.v1.ConversionFunnelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getConversionFunnelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Distinct active users per day, week or month.
     * </pre>
     */
    public io.datagw.v1.ActiveUsersResponse activeUsers(io.datagw.v1.ActiveUsersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getActiveUsersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Read-only SQL over the allow-listed analytics tables, with parameters,
     * a time limit and a row limit. Anything else is INVALID_ARGUMENT or
     * RESOURCE_EXHAUSTED with the reason in the details.
     * </pre>
     */
    public io.datagw.v1.RunQueryResponse runQuery(io.datagw.v1.RunQueryRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRunQueryMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service AnalyticsService.
   * <pre>
   * Real-time analytics on ClickHouse: behaviour events sent by services, the
   * domain events the relay copies from the shards, and typed reports over
   * both. Semantics and limits: docs/analytics.md.
   * </pre>
   */
  public static final class AnalyticsServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<AnalyticsServiceFutureStub> {
    private AnalyticsServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AnalyticsServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AnalyticsServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Revenue, orders and average order value per day or hour.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.SalesSummaryResponse> salesSummary(
        io.datagw.v1.SalesSummaryRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSalesSummaryMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Best-selling products by revenue or units.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.TopProductsResponse> topProducts(
        io.datagw.v1.TopProductsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTopProductsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Product view -&gt; add to cart -&gt; order, per day.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ConversionFunnelResponse> conversionFunnel(
        io.datagw.v1.ConversionFunnelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getConversionFunnelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Distinct active users per day, week or month.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ActiveUsersResponse> activeUsers(
        io.datagw.v1.ActiveUsersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getActiveUsersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Read-only SQL over the allow-listed analytics tables, with parameters,
     * a time limit and a row limit. Anything else is INVALID_ARGUMENT or
     * RESOURCE_EXHAUSTED with the reason in the details.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.RunQueryResponse> runQuery(
        io.datagw.v1.RunQueryRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRunQueryMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_SALES_SUMMARY = 0;
  private static final int METHODID_TOP_PRODUCTS = 1;
  private static final int METHODID_CONVERSION_FUNNEL = 2;
  private static final int METHODID_ACTIVE_USERS = 3;
  private static final int METHODID_RUN_QUERY = 4;
  private static final int METHODID_INGEST_EVENTS = 5;

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
        case METHODID_SALES_SUMMARY:
          serviceImpl.salesSummary((io.datagw.v1.SalesSummaryRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.SalesSummaryResponse>) responseObserver);
          break;
        case METHODID_TOP_PRODUCTS:
          serviceImpl.topProducts((io.datagw.v1.TopProductsRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.TopProductsResponse>) responseObserver);
          break;
        case METHODID_CONVERSION_FUNNEL:
          serviceImpl.conversionFunnel((io.datagw.v1.ConversionFunnelRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ConversionFunnelResponse>) responseObserver);
          break;
        case METHODID_ACTIVE_USERS:
          serviceImpl.activeUsers((io.datagw.v1.ActiveUsersRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ActiveUsersResponse>) responseObserver);
          break;
        case METHODID_RUN_QUERY:
          serviceImpl.runQuery((io.datagw.v1.RunQueryRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.RunQueryResponse>) responseObserver);
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
        case METHODID_INGEST_EVENTS:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.ingestEvents(
              (io.grpc.stub.StreamObserver<io.datagw.v1.IngestEventsResponse>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getIngestEventsMethod(),
          io.grpc.stub.ServerCalls.asyncClientStreamingCall(
            new MethodHandlers<
              io.datagw.v1.IngestEventsRequest,
              io.datagw.v1.IngestEventsResponse>(
                service, METHODID_INGEST_EVENTS)))
        .addMethod(
          getSalesSummaryMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.SalesSummaryRequest,
              io.datagw.v1.SalesSummaryResponse>(
                service, METHODID_SALES_SUMMARY)))
        .addMethod(
          getTopProductsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.TopProductsRequest,
              io.datagw.v1.TopProductsResponse>(
                service, METHODID_TOP_PRODUCTS)))
        .addMethod(
          getConversionFunnelMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ConversionFunnelRequest,
              io.datagw.v1.ConversionFunnelResponse>(
                service, METHODID_CONVERSION_FUNNEL)))
        .addMethod(
          getActiveUsersMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ActiveUsersRequest,
              io.datagw.v1.ActiveUsersResponse>(
                service, METHODID_ACTIVE_USERS)))
        .addMethod(
          getRunQueryMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.RunQueryRequest,
              io.datagw.v1.RunQueryResponse>(
                service, METHODID_RUN_QUERY)))
        .build();
  }

  private static abstract class AnalyticsServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    AnalyticsServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.datagw.v1.Analytics.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("AnalyticsService");
    }
  }

  private static final class AnalyticsServiceFileDescriptorSupplier
      extends AnalyticsServiceBaseDescriptorSupplier {
    AnalyticsServiceFileDescriptorSupplier() {}
  }

  private static final class AnalyticsServiceMethodDescriptorSupplier
      extends AnalyticsServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    AnalyticsServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (AnalyticsServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new AnalyticsServiceFileDescriptorSupplier())
              .addMethod(getIngestEventsMethod())
              .addMethod(getSalesSummaryMethod())
              .addMethod(getTopProductsMethod())
              .addMethod(getConversionFunnelMethod())
              .addMethod(getActiveUsersMethod())
              .addMethod(getRunQueryMethod())
              .build();
        }
      }
    }
    return result;
  }
}
