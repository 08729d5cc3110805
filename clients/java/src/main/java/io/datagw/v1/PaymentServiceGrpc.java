package io.datagw.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Payments of orders, on the order's shard. AUTHORIZED -&gt; CAPTURED -&gt;
 * (PARTIALLY_)REFUNDED, or AUTHORIZED -&gt; VOIDED. Refunds never exceed what
 * was captured. Every change is recorded as an event.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class PaymentServiceGrpc {

  private PaymentServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "datagw.v1.PaymentService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.AuthorizePaymentRequest,
      io.datagw.v1.AuthorizePaymentResponse> getAuthorizePaymentMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AuthorizePayment",
      requestType = io.datagw.v1.AuthorizePaymentRequest.class,
      responseType = io.datagw.v1.AuthorizePaymentResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.AuthorizePaymentRequest,
      io.datagw.v1.AuthorizePaymentResponse> getAuthorizePaymentMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.AuthorizePaymentRequest, io.datagw.v1.AuthorizePaymentResponse> getAuthorizePaymentMethod;
    if ((getAuthorizePaymentMethod = PaymentServiceGrpc.getAuthorizePaymentMethod) == null) {
      synchronized (PaymentServiceGrpc.class) {
        if ((getAuthorizePaymentMethod = PaymentServiceGrpc.getAuthorizePaymentMethod) == null) {
          PaymentServiceGrpc.getAuthorizePaymentMethod = getAuthorizePaymentMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.AuthorizePaymentRequest, io.datagw.v1.AuthorizePaymentResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AuthorizePayment"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.AuthorizePaymentRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.AuthorizePaymentResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PaymentServiceMethodDescriptorSupplier("AuthorizePayment"))
              .build();
        }
      }
    }
    return getAuthorizePaymentMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.CapturePaymentRequest,
      io.datagw.v1.CapturePaymentResponse> getCapturePaymentMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CapturePayment",
      requestType = io.datagw.v1.CapturePaymentRequest.class,
      responseType = io.datagw.v1.CapturePaymentResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.CapturePaymentRequest,
      io.datagw.v1.CapturePaymentResponse> getCapturePaymentMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.CapturePaymentRequest, io.datagw.v1.CapturePaymentResponse> getCapturePaymentMethod;
    if ((getCapturePaymentMethod = PaymentServiceGrpc.getCapturePaymentMethod) == null) {
      synchronized (PaymentServiceGrpc.class) {
        if ((getCapturePaymentMethod = PaymentServiceGrpc.getCapturePaymentMethod) == null) {
          PaymentServiceGrpc.getCapturePaymentMethod = getCapturePaymentMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.CapturePaymentRequest, io.datagw.v1.CapturePaymentResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CapturePayment"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.CapturePaymentRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.CapturePaymentResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PaymentServiceMethodDescriptorSupplier("CapturePayment"))
              .build();
        }
      }
    }
    return getCapturePaymentMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.RefundPaymentRequest,
      io.datagw.v1.RefundPaymentResponse> getRefundPaymentMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RefundPayment",
      requestType = io.datagw.v1.RefundPaymentRequest.class,
      responseType = io.datagw.v1.RefundPaymentResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.RefundPaymentRequest,
      io.datagw.v1.RefundPaymentResponse> getRefundPaymentMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.RefundPaymentRequest, io.datagw.v1.RefundPaymentResponse> getRefundPaymentMethod;
    if ((getRefundPaymentMethod = PaymentServiceGrpc.getRefundPaymentMethod) == null) {
      synchronized (PaymentServiceGrpc.class) {
        if ((getRefundPaymentMethod = PaymentServiceGrpc.getRefundPaymentMethod) == null) {
          PaymentServiceGrpc.getRefundPaymentMethod = getRefundPaymentMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.RefundPaymentRequest, io.datagw.v1.RefundPaymentResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RefundPayment"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.RefundPaymentRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.RefundPaymentResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PaymentServiceMethodDescriptorSupplier("RefundPayment"))
              .build();
        }
      }
    }
    return getRefundPaymentMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.VoidPaymentRequest,
      io.datagw.v1.VoidPaymentResponse> getVoidPaymentMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "VoidPayment",
      requestType = io.datagw.v1.VoidPaymentRequest.class,
      responseType = io.datagw.v1.VoidPaymentResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.VoidPaymentRequest,
      io.datagw.v1.VoidPaymentResponse> getVoidPaymentMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.VoidPaymentRequest, io.datagw.v1.VoidPaymentResponse> getVoidPaymentMethod;
    if ((getVoidPaymentMethod = PaymentServiceGrpc.getVoidPaymentMethod) == null) {
      synchronized (PaymentServiceGrpc.class) {
        if ((getVoidPaymentMethod = PaymentServiceGrpc.getVoidPaymentMethod) == null) {
          PaymentServiceGrpc.getVoidPaymentMethod = getVoidPaymentMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.VoidPaymentRequest, io.datagw.v1.VoidPaymentResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "VoidPayment"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.VoidPaymentRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.VoidPaymentResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PaymentServiceMethodDescriptorSupplier("VoidPayment"))
              .build();
        }
      }
    }
    return getVoidPaymentMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetPaymentRequest,
      io.datagw.v1.GetPaymentResponse> getGetPaymentMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetPayment",
      requestType = io.datagw.v1.GetPaymentRequest.class,
      responseType = io.datagw.v1.GetPaymentResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetPaymentRequest,
      io.datagw.v1.GetPaymentResponse> getGetPaymentMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetPaymentRequest, io.datagw.v1.GetPaymentResponse> getGetPaymentMethod;
    if ((getGetPaymentMethod = PaymentServiceGrpc.getGetPaymentMethod) == null) {
      synchronized (PaymentServiceGrpc.class) {
        if ((getGetPaymentMethod = PaymentServiceGrpc.getGetPaymentMethod) == null) {
          PaymentServiceGrpc.getGetPaymentMethod = getGetPaymentMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetPaymentRequest, io.datagw.v1.GetPaymentResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetPayment"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetPaymentRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetPaymentResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PaymentServiceMethodDescriptorSupplier("GetPayment"))
              .build();
        }
      }
    }
    return getGetPaymentMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ListPaymentsRequest,
      io.datagw.v1.ListPaymentsResponse> getListPaymentsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListPayments",
      requestType = io.datagw.v1.ListPaymentsRequest.class,
      responseType = io.datagw.v1.ListPaymentsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ListPaymentsRequest,
      io.datagw.v1.ListPaymentsResponse> getListPaymentsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ListPaymentsRequest, io.datagw.v1.ListPaymentsResponse> getListPaymentsMethod;
    if ((getListPaymentsMethod = PaymentServiceGrpc.getListPaymentsMethod) == null) {
      synchronized (PaymentServiceGrpc.class) {
        if ((getListPaymentsMethod = PaymentServiceGrpc.getListPaymentsMethod) == null) {
          PaymentServiceGrpc.getListPaymentsMethod = getListPaymentsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ListPaymentsRequest, io.datagw.v1.ListPaymentsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListPayments"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ListPaymentsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ListPaymentsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PaymentServiceMethodDescriptorSupplier("ListPayments"))
              .build();
        }
      }
    }
    return getListPaymentsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static PaymentServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PaymentServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PaymentServiceStub>() {
        @java.lang.Override
        public PaymentServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PaymentServiceStub(channel, callOptions);
        }
      };
    return PaymentServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static PaymentServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PaymentServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PaymentServiceBlockingV2Stub>() {
        @java.lang.Override
        public PaymentServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PaymentServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return PaymentServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static PaymentServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PaymentServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PaymentServiceBlockingStub>() {
        @java.lang.Override
        public PaymentServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PaymentServiceBlockingStub(channel, callOptions);
        }
      };
    return PaymentServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static PaymentServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PaymentServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PaymentServiceFutureStub>() {
        @java.lang.Override
        public PaymentServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PaymentServiceFutureStub(channel, callOptions);
        }
      };
    return PaymentServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Payments of orders, on the order's shard. AUTHORIZED -&gt; CAPTURED -&gt;
   * (PARTIALLY_)REFUNDED, or AUTHORIZED -&gt; VOIDED. Refunds never exceed what
   * was captured. Every change is recorded as an event.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Authorizes the order's total again, for a placed order whose payment was
     * voided (FAILED_PRECONDITION when a live payment exists).
     * </pre>
     */
    default void authorizePayment(io.datagw.v1.AuthorizePaymentRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.AuthorizePaymentResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAuthorizePaymentMethod(), responseObserver);
    }

    /**
     * <pre>
     * Captures an authorized payment (all of it, or `amount` of it). Moves a
     * PLACED order to PAID.
     * </pre>
     */
    default void capturePayment(io.datagw.v1.CapturePaymentRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.CapturePaymentResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCapturePaymentMethod(), responseObserver);
    }

    /**
     * <pre>
     * Refunds part or all of what was captured.
     * </pre>
     */
    default void refundPayment(io.datagw.v1.RefundPaymentRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.RefundPaymentResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRefundPaymentMethod(), responseObserver);
    }

    /**
     * <pre>
     * Voids an authorized, uncaptured payment.
     * </pre>
     */
    default void voidPayment(io.datagw.v1.VoidPaymentRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.VoidPaymentResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getVoidPaymentMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads a payment.
     * </pre>
     */
    default void getPayment(io.datagw.v1.GetPaymentRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetPaymentResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetPaymentMethod(), responseObserver);
    }

    /**
     * <pre>
     * The payments of an order, oldest first.
     * </pre>
     */
    default void listPayments(io.datagw.v1.ListPaymentsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ListPaymentsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListPaymentsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service PaymentService.
   * <pre>
   * Payments of orders, on the order's shard. AUTHORIZED -&gt; CAPTURED -&gt;
   * (PARTIALLY_)REFUNDED, or AUTHORIZED -&gt; VOIDED. Refunds never exceed what
   * was captured. Every change is recorded as an event.
   * </pre>
   */
  public static abstract class PaymentServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return PaymentServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service PaymentService.
   * <pre>
   * Payments of orders, on the order's shard. AUTHORIZED -&gt; CAPTURED -&gt;
   * (PARTIALLY_)REFUNDED, or AUTHORIZED -&gt; VOIDED. Refunds never exceed what
   * was captured. Every change is recorded as an event.
   * </pre>
   */
  public static final class PaymentServiceStub
      extends io.grpc.stub.AbstractAsyncStub<PaymentServiceStub> {
    private PaymentServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PaymentServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PaymentServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Authorizes the order's total again, for a placed order whose payment was
     * voided (FAILED_PRECONDITION when a live payment exists).
     * </pre>
     */
    public void authorizePayment(io.datagw.v1.AuthorizePaymentRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.AuthorizePaymentResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAuthorizePaymentMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Captures an authorized payment (all of it, or `amount` of it). Moves a
     * PLACED order to PAID.
     * </pre>
     */
    public void capturePayment(io.datagw.v1.CapturePaymentRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.CapturePaymentResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCapturePaymentMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Refunds part or all of what was captured.
     * </pre>
     */
    public void refundPayment(io.datagw.v1.RefundPaymentRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.RefundPaymentResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRefundPaymentMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Voids an authorized, uncaptured payment.
     * </pre>
     */
    public void voidPayment(io.datagw.v1.VoidPaymentRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.VoidPaymentResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getVoidPaymentMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads a payment.
     * </pre>
     */
    public void getPayment(io.datagw.v1.GetPaymentRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetPaymentResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetPaymentMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The payments of an order, oldest first.
     * </pre>
     */
    public void listPayments(io.datagw.v1.ListPaymentsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ListPaymentsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListPaymentsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service PaymentService.
   * <pre>
   * Payments of orders, on the order's shard. AUTHORIZED -&gt; CAPTURED -&gt;
   * (PARTIALLY_)REFUNDED, or AUTHORIZED -&gt; VOIDED. Refunds never exceed what
   * was captured. Every change is recorded as an event.
   * </pre>
   */
  public static final class PaymentServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<PaymentServiceBlockingV2Stub> {
    private PaymentServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PaymentServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PaymentServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Authorizes the order's total again, for a placed order whose payment was
     * voided (FAILED_PRECONDITION when a live payment exists).
     * </pre>
     */
    public io.datagw.v1.AuthorizePaymentResponse authorizePayment(io.datagw.v1.AuthorizePaymentRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAuthorizePaymentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Captures an authorized payment (all of it, or `amount` of it). Moves a
     * PLACED order to PAID.
     * </pre>
     */
    public io.datagw.v1.CapturePaymentResponse capturePayment(io.datagw.v1.CapturePaymentRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCapturePaymentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Refunds part or all of what was captured.
     * </pre>
     */
    public io.datagw.v1.RefundPaymentResponse refundPayment(io.datagw.v1.RefundPaymentRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getRefundPaymentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Voids an authorized, uncaptured payment.
     * </pre>
     */
    public io.datagw.v1.VoidPaymentResponse voidPayment(io.datagw.v1.VoidPaymentRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getVoidPaymentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a payment.
     * </pre>
     */
    public io.datagw.v1.GetPaymentResponse getPayment(io.datagw.v1.GetPaymentRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetPaymentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The payments of an order, oldest first.
     * </pre>
     */
    public io.datagw.v1.ListPaymentsResponse listPayments(io.datagw.v1.ListPaymentsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListPaymentsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service PaymentService.
   * <pre>
   * Payments of orders, on the order's shard. AUTHORIZED -&gt; CAPTURED -&gt;
   * (PARTIALLY_)REFUNDED, or AUTHORIZED -&gt; VOIDED. Refunds never exceed what
   * was captured. Every change is recorded as an event.
   * </pre>
   */
  public static final class PaymentServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<PaymentServiceBlockingStub> {
    private PaymentServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PaymentServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PaymentServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Authorizes the order's total again, for a placed order whose payment was
     * voided (FAILED_PRECONDITION when a live payment exists).
     * </pre>
     */
    public io.datagw.v1.AuthorizePaymentResponse authorizePayment(io.datagw.v1.AuthorizePaymentRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAuthorizePaymentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Captures an authorized payment (all of it, or `amount` of it). Moves a
     * PLACED order to PAID.
     * </pre>
     */
    public io.datagw.v1.CapturePaymentResponse capturePayment(io.datagw.v1.CapturePaymentRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCapturePaymentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Refunds part or all of what was captured.
     * </pre>
     */
    public io.datagw.v1.RefundPaymentResponse refundPayment(io.datagw.v1.RefundPaymentRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRefundPaymentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Voids an authorized, uncaptured payment.
     * </pre>
     */
    public io.datagw.v1.VoidPaymentResponse voidPayment(io.datagw.v1.VoidPaymentRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getVoidPaymentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a payment.
     * </pre>
     */
    public io.datagw.v1.GetPaymentResponse getPayment(io.datagw.v1.GetPaymentRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetPaymentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The payments of an order, oldest first.
     * </pre>
     */
    public io.datagw.v1.ListPaymentsResponse listPayments(io.datagw.v1.ListPaymentsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListPaymentsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service PaymentService.
   * <pre>
   * Payments of orders, on the order's shard. AUTHORIZED -&gt; CAPTURED -&gt;
   * (PARTIALLY_)REFUNDED, or AUTHORIZED -&gt; VOIDED. Refunds never exceed what
   * was captured. Every change is recorded as an event.
   * </pre>
   */
  public static final class PaymentServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<PaymentServiceFutureStub> {
    private PaymentServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PaymentServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PaymentServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Authorizes the order's total again, for a placed order whose payment was
     * voided (FAILED_PRECONDITION when a live payment exists).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.AuthorizePaymentResponse> authorizePayment(
        io.datagw.v1.AuthorizePaymentRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAuthorizePaymentMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Captures an authorized payment (all of it, or `amount` of it). Moves a
     * PLACED order to PAID.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.CapturePaymentResponse> capturePayment(
        io.datagw.v1.CapturePaymentRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCapturePaymentMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Refunds part or all of what was captured.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.RefundPaymentResponse> refundPayment(
        io.datagw.v1.RefundPaymentRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRefundPaymentMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Voids an authorized, uncaptured payment.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.VoidPaymentResponse> voidPayment(
        io.datagw.v1.VoidPaymentRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getVoidPaymentMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads a payment.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetPaymentResponse> getPayment(
        io.datagw.v1.GetPaymentRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetPaymentMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The payments of an order, oldest first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ListPaymentsResponse> listPayments(
        io.datagw.v1.ListPaymentsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListPaymentsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_AUTHORIZE_PAYMENT = 0;
  private static final int METHODID_CAPTURE_PAYMENT = 1;
  private static final int METHODID_REFUND_PAYMENT = 2;
  private static final int METHODID_VOID_PAYMENT = 3;
  private static final int METHODID_GET_PAYMENT = 4;
  private static final int METHODID_LIST_PAYMENTS = 5;

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
        case METHODID_AUTHORIZE_PAYMENT:
          serviceImpl.authorizePayment((io.datagw.v1.AuthorizePaymentRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.AuthorizePaymentResponse>) responseObserver);
          break;
        case METHODID_CAPTURE_PAYMENT:
          serviceImpl.capturePayment((io.datagw.v1.CapturePaymentRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.CapturePaymentResponse>) responseObserver);
          break;
        case METHODID_REFUND_PAYMENT:
          serviceImpl.refundPayment((io.datagw.v1.RefundPaymentRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.RefundPaymentResponse>) responseObserver);
          break;
        case METHODID_VOID_PAYMENT:
          serviceImpl.voidPayment((io.datagw.v1.VoidPaymentRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.VoidPaymentResponse>) responseObserver);
          break;
        case METHODID_GET_PAYMENT:
          serviceImpl.getPayment((io.datagw.v1.GetPaymentRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetPaymentResponse>) responseObserver);
          break;
        case METHODID_LIST_PAYMENTS:
          serviceImpl.listPayments((io.datagw.v1.ListPaymentsRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ListPaymentsResponse>) responseObserver);
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
          getAuthorizePaymentMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.AuthorizePaymentRequest,
              io.datagw.v1.AuthorizePaymentResponse>(
                service, METHODID_AUTHORIZE_PAYMENT)))
        .addMethod(
          getCapturePaymentMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.CapturePaymentRequest,
              io.datagw.v1.CapturePaymentResponse>(
                service, METHODID_CAPTURE_PAYMENT)))
        .addMethod(
          getRefundPaymentMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.RefundPaymentRequest,
              io.datagw.v1.RefundPaymentResponse>(
                service, METHODID_REFUND_PAYMENT)))
        .addMethod(
          getVoidPaymentMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.VoidPaymentRequest,
              io.datagw.v1.VoidPaymentResponse>(
                service, METHODID_VOID_PAYMENT)))
        .addMethod(
          getGetPaymentMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetPaymentRequest,
              io.datagw.v1.GetPaymentResponse>(
                service, METHODID_GET_PAYMENT)))
        .addMethod(
          getListPaymentsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ListPaymentsRequest,
              io.datagw.v1.ListPaymentsResponse>(
                service, METHODID_LIST_PAYMENTS)))
        .build();
  }

  private static abstract class PaymentServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    PaymentServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.datagw.v1.PaymentOuterClass.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("PaymentService");
    }
  }

  private static final class PaymentServiceFileDescriptorSupplier
      extends PaymentServiceBaseDescriptorSupplier {
    PaymentServiceFileDescriptorSupplier() {}
  }

  private static final class PaymentServiceMethodDescriptorSupplier
      extends PaymentServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    PaymentServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (PaymentServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new PaymentServiceFileDescriptorSupplier())
              .addMethod(getAuthorizePaymentMethod())
              .addMethod(getCapturePaymentMethod())
              .addMethod(getRefundPaymentMethod())
              .addMethod(getVoidPaymentMethod())
              .addMethod(getGetPaymentMethod())
              .addMethod(getListPaymentsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
