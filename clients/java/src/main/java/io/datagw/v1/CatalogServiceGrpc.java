package io.datagw.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * The product catalog: keyed by SKU, full-text searchable, cached per the
 * catalog policy.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class CatalogServiceGrpc {

  private CatalogServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "datagw.v1.CatalogService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.UpsertProductRequest,
      io.datagw.v1.UpsertProductResponse> getUpsertProductMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpsertProduct",
      requestType = io.datagw.v1.UpsertProductRequest.class,
      responseType = io.datagw.v1.UpsertProductResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.UpsertProductRequest,
      io.datagw.v1.UpsertProductResponse> getUpsertProductMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.UpsertProductRequest, io.datagw.v1.UpsertProductResponse> getUpsertProductMethod;
    if ((getUpsertProductMethod = CatalogServiceGrpc.getUpsertProductMethod) == null) {
      synchronized (CatalogServiceGrpc.class) {
        if ((getUpsertProductMethod = CatalogServiceGrpc.getUpsertProductMethod) == null) {
          CatalogServiceGrpc.getUpsertProductMethod = getUpsertProductMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.UpsertProductRequest, io.datagw.v1.UpsertProductResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpsertProduct"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.UpsertProductRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.UpsertProductResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CatalogServiceMethodDescriptorSupplier("UpsertProduct"))
              .build();
        }
      }
    }
    return getUpsertProductMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetProductRequest,
      io.datagw.v1.GetProductResponse> getGetProductMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetProduct",
      requestType = io.datagw.v1.GetProductRequest.class,
      responseType = io.datagw.v1.GetProductResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetProductRequest,
      io.datagw.v1.GetProductResponse> getGetProductMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetProductRequest, io.datagw.v1.GetProductResponse> getGetProductMethod;
    if ((getGetProductMethod = CatalogServiceGrpc.getGetProductMethod) == null) {
      synchronized (CatalogServiceGrpc.class) {
        if ((getGetProductMethod = CatalogServiceGrpc.getGetProductMethod) == null) {
          CatalogServiceGrpc.getGetProductMethod = getGetProductMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetProductRequest, io.datagw.v1.GetProductResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetProduct"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetProductRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetProductResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CatalogServiceMethodDescriptorSupplier("GetProduct"))
              .build();
        }
      }
    }
    return getGetProductMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.BatchGetProductsRequest,
      io.datagw.v1.BatchGetProductsResponse> getBatchGetProductsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "BatchGetProducts",
      requestType = io.datagw.v1.BatchGetProductsRequest.class,
      responseType = io.datagw.v1.BatchGetProductsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.BatchGetProductsRequest,
      io.datagw.v1.BatchGetProductsResponse> getBatchGetProductsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.BatchGetProductsRequest, io.datagw.v1.BatchGetProductsResponse> getBatchGetProductsMethod;
    if ((getBatchGetProductsMethod = CatalogServiceGrpc.getBatchGetProductsMethod) == null) {
      synchronized (CatalogServiceGrpc.class) {
        if ((getBatchGetProductsMethod = CatalogServiceGrpc.getBatchGetProductsMethod) == null) {
          CatalogServiceGrpc.getBatchGetProductsMethod = getBatchGetProductsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.BatchGetProductsRequest, io.datagw.v1.BatchGetProductsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "BatchGetProducts"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.BatchGetProductsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.BatchGetProductsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CatalogServiceMethodDescriptorSupplier("BatchGetProducts"))
              .build();
        }
      }
    }
    return getBatchGetProductsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.DeleteProductRequest,
      io.datagw.v1.DeleteProductResponse> getDeleteProductMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteProduct",
      requestType = io.datagw.v1.DeleteProductRequest.class,
      responseType = io.datagw.v1.DeleteProductResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.DeleteProductRequest,
      io.datagw.v1.DeleteProductResponse> getDeleteProductMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.DeleteProductRequest, io.datagw.v1.DeleteProductResponse> getDeleteProductMethod;
    if ((getDeleteProductMethod = CatalogServiceGrpc.getDeleteProductMethod) == null) {
      synchronized (CatalogServiceGrpc.class) {
        if ((getDeleteProductMethod = CatalogServiceGrpc.getDeleteProductMethod) == null) {
          CatalogServiceGrpc.getDeleteProductMethod = getDeleteProductMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.DeleteProductRequest, io.datagw.v1.DeleteProductResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteProduct"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.DeleteProductRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.DeleteProductResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CatalogServiceMethodDescriptorSupplier("DeleteProduct"))
              .build();
        }
      }
    }
    return getDeleteProductMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.SearchProductsRequest,
      io.datagw.v1.SearchProductsResponse> getSearchProductsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SearchProducts",
      requestType = io.datagw.v1.SearchProductsRequest.class,
      responseType = io.datagw.v1.SearchProductsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.SearchProductsRequest,
      io.datagw.v1.SearchProductsResponse> getSearchProductsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.SearchProductsRequest, io.datagw.v1.SearchProductsResponse> getSearchProductsMethod;
    if ((getSearchProductsMethod = CatalogServiceGrpc.getSearchProductsMethod) == null) {
      synchronized (CatalogServiceGrpc.class) {
        if ((getSearchProductsMethod = CatalogServiceGrpc.getSearchProductsMethod) == null) {
          CatalogServiceGrpc.getSearchProductsMethod = getSearchProductsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.SearchProductsRequest, io.datagw.v1.SearchProductsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SearchProducts"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SearchProductsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SearchProductsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CatalogServiceMethodDescriptorSupplier("SearchProducts"))
              .build();
        }
      }
    }
    return getSearchProductsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ImportProductsRequest,
      io.datagw.v1.ImportProductsResponse> getImportProductsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ImportProducts",
      requestType = io.datagw.v1.ImportProductsRequest.class,
      responseType = io.datagw.v1.ImportProductsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ImportProductsRequest,
      io.datagw.v1.ImportProductsResponse> getImportProductsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ImportProductsRequest, io.datagw.v1.ImportProductsResponse> getImportProductsMethod;
    if ((getImportProductsMethod = CatalogServiceGrpc.getImportProductsMethod) == null) {
      synchronized (CatalogServiceGrpc.class) {
        if ((getImportProductsMethod = CatalogServiceGrpc.getImportProductsMethod) == null) {
          CatalogServiceGrpc.getImportProductsMethod = getImportProductsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ImportProductsRequest, io.datagw.v1.ImportProductsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ImportProducts"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ImportProductsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ImportProductsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CatalogServiceMethodDescriptorSupplier("ImportProducts"))
              .build();
        }
      }
    }
    return getImportProductsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.SuggestProductsRequest,
      io.datagw.v1.SuggestProductsResponse> getSuggestProductsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SuggestProducts",
      requestType = io.datagw.v1.SuggestProductsRequest.class,
      responseType = io.datagw.v1.SuggestProductsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.SuggestProductsRequest,
      io.datagw.v1.SuggestProductsResponse> getSuggestProductsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.SuggestProductsRequest, io.datagw.v1.SuggestProductsResponse> getSuggestProductsMethod;
    if ((getSuggestProductsMethod = CatalogServiceGrpc.getSuggestProductsMethod) == null) {
      synchronized (CatalogServiceGrpc.class) {
        if ((getSuggestProductsMethod = CatalogServiceGrpc.getSuggestProductsMethod) == null) {
          CatalogServiceGrpc.getSuggestProductsMethod = getSuggestProductsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.SuggestProductsRequest, io.datagw.v1.SuggestProductsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SuggestProducts"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SuggestProductsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.SuggestProductsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CatalogServiceMethodDescriptorSupplier("SuggestProducts"))
              .build();
        }
      }
    }
    return getSuggestProductsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static CatalogServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CatalogServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CatalogServiceStub>() {
        @java.lang.Override
        public CatalogServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CatalogServiceStub(channel, callOptions);
        }
      };
    return CatalogServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static CatalogServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CatalogServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CatalogServiceBlockingV2Stub>() {
        @java.lang.Override
        public CatalogServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CatalogServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return CatalogServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static CatalogServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CatalogServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CatalogServiceBlockingStub>() {
        @java.lang.Override
        public CatalogServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CatalogServiceBlockingStub(channel, callOptions);
        }
      };
    return CatalogServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static CatalogServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CatalogServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CatalogServiceFutureStub>() {
        @java.lang.Override
        public CatalogServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CatalogServiceFutureStub(channel, callOptions);
        }
      };
    return CatalogServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * The product catalog: keyed by SKU, full-text searchable, cached per the
   * catalog policy.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates the product or replaces it. With expected_version set, the write
     * only happens if the stored version matches (0 = must not exist yet);
     * otherwise ABORTED with the current version in the details.
     * </pre>
     */
    default void upsertProduct(io.datagw.v1.UpsertProductRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.UpsertProductResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpsertProductMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads one product. NOT_FOUND if there is none.
     * </pre>
     */
    default void getProduct(io.datagw.v1.GetProductRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetProductResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetProductMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads up to 100 products; unknown SKUs are listed in missing_skus.
     * </pre>
     */
    default void batchGetProducts(io.datagw.v1.BatchGetProductsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.BatchGetProductsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getBatchGetProductsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a product. NOT_FOUND if there is none.
     * </pre>
     */
    default void deleteProduct(io.datagw.v1.DeleteProductRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.DeleteProductResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteProductMethod(), responseObserver);
    }

    /**
     * <pre>
     * Full-text search over title, description and brand with filters, sorting
     * and keyset paging.
     * </pre>
     */
    default void searchProducts(io.datagw.v1.SearchProductsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SearchProductsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSearchProductsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Bulk load: stream products in, get counts and per-row errors back. Valid
     * rows are stored even when others are rejected.
     * </pre>
     */
    default io.grpc.stub.StreamObserver<io.datagw.v1.ImportProductsRequest> importProducts(
        io.grpc.stub.StreamObserver<io.datagw.v1.ImportProductsResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getImportProductsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Completions of what a shopper is typing, for a search box: the last word
     * of `prefix` completed from the words of the catalog's titles, brands and
     * categories (accents and case ignored), the words in most products first.
     * Fast enough to call on every keystroke.
     * </pre>
     */
    default void suggestProducts(io.datagw.v1.SuggestProductsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SuggestProductsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSuggestProductsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service CatalogService.
   * <pre>
   * The product catalog: keyed by SKU, full-text searchable, cached per the
   * catalog policy.
   * </pre>
   */
  public static abstract class CatalogServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return CatalogServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service CatalogService.
   * <pre>
   * The product catalog: keyed by SKU, full-text searchable, cached per the
   * catalog policy.
   * </pre>
   */
  public static final class CatalogServiceStub
      extends io.grpc.stub.AbstractAsyncStub<CatalogServiceStub> {
    private CatalogServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CatalogServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CatalogServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates the product or replaces it. With expected_version set, the write
     * only happens if the stored version matches (0 = must not exist yet);
     * otherwise ABORTED with the current version in the details.
     * </pre>
     */
    public void upsertProduct(io.datagw.v1.UpsertProductRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.UpsertProductResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpsertProductMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads one product. NOT_FOUND if there is none.
     * </pre>
     */
    public void getProduct(io.datagw.v1.GetProductRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetProductResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetProductMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads up to 100 products; unknown SKUs are listed in missing_skus.
     * </pre>
     */
    public void batchGetProducts(io.datagw.v1.BatchGetProductsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.BatchGetProductsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getBatchGetProductsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a product. NOT_FOUND if there is none.
     * </pre>
     */
    public void deleteProduct(io.datagw.v1.DeleteProductRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.DeleteProductResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteProductMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Full-text search over title, description and brand with filters, sorting
     * and keyset paging.
     * </pre>
     */
    public void searchProducts(io.datagw.v1.SearchProductsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SearchProductsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSearchProductsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Bulk load: stream products in, get counts and per-row errors back. Valid
     * rows are stored even when others are rejected.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<io.datagw.v1.ImportProductsRequest> importProducts(
        io.grpc.stub.StreamObserver<io.datagw.v1.ImportProductsResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncClientStreamingCall(
          getChannel().newCall(getImportProductsMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * Completions of what a shopper is typing, for a search box: the last word
     * of `prefix` completed from the words of the catalog's titles, brands and
     * categories (accents and case ignored), the words in most products first.
     * Fast enough to call on every keystroke.
     * </pre>
     */
    public void suggestProducts(io.datagw.v1.SuggestProductsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.SuggestProductsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSuggestProductsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service CatalogService.
   * <pre>
   * The product catalog: keyed by SKU, full-text searchable, cached per the
   * catalog policy.
   * </pre>
   */
  public static final class CatalogServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<CatalogServiceBlockingV2Stub> {
    private CatalogServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CatalogServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CatalogServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates the product or replaces it. With expected_version set, the write
     * only happens if the stored version matches (0 = must not exist yet);
     * otherwise ABORTED with the current version in the details.
     * </pre>
     */
    public io.datagw.v1.UpsertProductResponse upsertProduct(io.datagw.v1.UpsertProductRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpsertProductMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads one product. NOT_FOUND if there is none.
     * </pre>
     */
    public io.datagw.v1.GetProductResponse getProduct(io.datagw.v1.GetProductRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetProductMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads up to 100 products; unknown SKUs are listed in missing_skus.
     * </pre>
     */
    public io.datagw.v1.BatchGetProductsResponse batchGetProducts(io.datagw.v1.BatchGetProductsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getBatchGetProductsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a product. NOT_FOUND if there is none.
     * </pre>
     */
    public io.datagw.v1.DeleteProductResponse deleteProduct(io.datagw.v1.DeleteProductRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteProductMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Full-text search over title, description and brand with filters, sorting
     * and keyset paging.
     * </pre>
     */
    public io.datagw.v1.SearchProductsResponse searchProducts(io.datagw.v1.SearchProductsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSearchProductsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Bulk load: stream products in, get counts and per-row errors back. Valid
     * rows are stored even when others are rejected.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<io.datagw.v1.ImportProductsRequest, io.datagw.v1.ImportProductsResponse>
        importProducts() {
      return io.grpc.stub.ClientCalls.blockingClientStreamingCall(
          getChannel(), getImportProductsMethod(), getCallOptions());
    }

    /**
     * <pre>
     * Completions of what a shopper is typing, for a search box: the last word
     * of `prefix` completed from the words of the catalog's titles, brands and
     * categories (accents and case ignored), the words in most products first.
     * Fast enough to call on every keystroke.
     * </pre>
     */
    public io.datagw.v1.SuggestProductsResponse suggestProducts(io.datagw.v1.SuggestProductsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSuggestProductsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service CatalogService.
   * <pre>
   * The product catalog: keyed by SKU, full-text searchable, cached per the
   * catalog policy.
   * </pre>
   */
  public static final class CatalogServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<CatalogServiceBlockingStub> {
    private CatalogServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CatalogServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CatalogServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates the product or replaces it. With expected_version set, the write
     * only happens if the stored version matches (0 = must not exist yet);
     * otherwise ABORTED with the current version in the details.
     * </pre>
     */
    public io.datagw.v1.UpsertProductResponse upsertProduct(io.datagw.v1.UpsertProductRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpsertProductMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads one product. NOT_FOUND if there is none.
     * </pre>
     */
    public io.datagw.v1.GetProductResponse getProduct(io.datagw.v1.GetProductRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetProductMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads up to 100 products; unknown SKUs are listed in missing_skus.
     * </pre>
     */
    public io.datagw.v1.BatchGetProductsResponse batchGetProducts(io.datagw.v1.BatchGetProductsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getBatchGetProductsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a product. NOT_FOUND if there is none.
     * </pre>
     */
    public io.datagw.v1.DeleteProductResponse deleteProduct(io.datagw.v1.DeleteProductRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteProductMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Full-text search over title, description and brand with filters, sorting
     * and keyset paging.
     * </pre>
     */
    public io.datagw.v1.SearchProductsResponse searchProducts(io.datagw.v1.SearchProductsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSearchProductsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Completions of what a shopper is typing, for a search box: the last word
     * of `prefix` completed from the words of the catalog's titles, brands and
     * categories (accents and case ignored), the words in most products first.
     * Fast enough to call on every keystroke.
     * </pre>
     */
    public io.datagw.v1.SuggestProductsResponse suggestProducts(io.datagw.v1.SuggestProductsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSuggestProductsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service CatalogService.
   * <pre>
   * The product catalog: keyed by SKU, full-text searchable, cached per the
   * catalog policy.
   * </pre>
   */
  public static final class CatalogServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<CatalogServiceFutureStub> {
    private CatalogServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CatalogServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CatalogServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates the product or replaces it. With expected_version set, the write
     * only happens if the stored version matches (0 = must not exist yet);
     * otherwise ABORTED with the current version in the details.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.UpsertProductResponse> upsertProduct(
        io.datagw.v1.UpsertProductRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpsertProductMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads one product. NOT_FOUND if there is none.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetProductResponse> getProduct(
        io.datagw.v1.GetProductRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetProductMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads up to 100 products; unknown SKUs are listed in missing_skus.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.BatchGetProductsResponse> batchGetProducts(
        io.datagw.v1.BatchGetProductsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getBatchGetProductsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a product. NOT_FOUND if there is none.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.DeleteProductResponse> deleteProduct(
        io.datagw.v1.DeleteProductRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteProductMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Full-text search over title, description and brand with filters, sorting
     * and keyset paging.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.SearchProductsResponse> searchProducts(
        io.datagw.v1.SearchProductsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSearchProductsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Completions of what a shopper is typing, for a search box: the last word
     * of `prefix` completed from the words of the catalog's titles, brands and
     * categories (accents and case ignored), the words in most products first.
     * Fast enough to call on every keystroke.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.SuggestProductsResponse> suggestProducts(
        io.datagw.v1.SuggestProductsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSuggestProductsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_UPSERT_PRODUCT = 0;
  private static final int METHODID_GET_PRODUCT = 1;
  private static final int METHODID_BATCH_GET_PRODUCTS = 2;
  private static final int METHODID_DELETE_PRODUCT = 3;
  private static final int METHODID_SEARCH_PRODUCTS = 4;
  private static final int METHODID_SUGGEST_PRODUCTS = 5;
  private static final int METHODID_IMPORT_PRODUCTS = 6;

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
        case METHODID_UPSERT_PRODUCT:
          serviceImpl.upsertProduct((io.datagw.v1.UpsertProductRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.UpsertProductResponse>) responseObserver);
          break;
        case METHODID_GET_PRODUCT:
          serviceImpl.getProduct((io.datagw.v1.GetProductRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetProductResponse>) responseObserver);
          break;
        case METHODID_BATCH_GET_PRODUCTS:
          serviceImpl.batchGetProducts((io.datagw.v1.BatchGetProductsRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.BatchGetProductsResponse>) responseObserver);
          break;
        case METHODID_DELETE_PRODUCT:
          serviceImpl.deleteProduct((io.datagw.v1.DeleteProductRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.DeleteProductResponse>) responseObserver);
          break;
        case METHODID_SEARCH_PRODUCTS:
          serviceImpl.searchProducts((io.datagw.v1.SearchProductsRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.SearchProductsResponse>) responseObserver);
          break;
        case METHODID_SUGGEST_PRODUCTS:
          serviceImpl.suggestProducts((io.datagw.v1.SuggestProductsRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.SuggestProductsResponse>) responseObserver);
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
        case METHODID_IMPORT_PRODUCTS:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.importProducts(
              (io.grpc.stub.StreamObserver<io.datagw.v1.ImportProductsResponse>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getUpsertProductMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.UpsertProductRequest,
              io.datagw.v1.UpsertProductResponse>(
                service, METHODID_UPSERT_PRODUCT)))
        .addMethod(
          getGetProductMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetProductRequest,
              io.datagw.v1.GetProductResponse>(
                service, METHODID_GET_PRODUCT)))
        .addMethod(
          getBatchGetProductsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.BatchGetProductsRequest,
              io.datagw.v1.BatchGetProductsResponse>(
                service, METHODID_BATCH_GET_PRODUCTS)))
        .addMethod(
          getDeleteProductMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.DeleteProductRequest,
              io.datagw.v1.DeleteProductResponse>(
                service, METHODID_DELETE_PRODUCT)))
        .addMethod(
          getSearchProductsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.SearchProductsRequest,
              io.datagw.v1.SearchProductsResponse>(
                service, METHODID_SEARCH_PRODUCTS)))
        .addMethod(
          getImportProductsMethod(),
          io.grpc.stub.ServerCalls.asyncClientStreamingCall(
            new MethodHandlers<
              io.datagw.v1.ImportProductsRequest,
              io.datagw.v1.ImportProductsResponse>(
                service, METHODID_IMPORT_PRODUCTS)))
        .addMethod(
          getSuggestProductsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.SuggestProductsRequest,
              io.datagw.v1.SuggestProductsResponse>(
                service, METHODID_SUGGEST_PRODUCTS)))
        .build();
  }

  private static abstract class CatalogServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    CatalogServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.datagw.v1.Catalog.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("CatalogService");
    }
  }

  private static final class CatalogServiceFileDescriptorSupplier
      extends CatalogServiceBaseDescriptorSupplier {
    CatalogServiceFileDescriptorSupplier() {}
  }

  private static final class CatalogServiceMethodDescriptorSupplier
      extends CatalogServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    CatalogServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (CatalogServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new CatalogServiceFileDescriptorSupplier())
              .addMethod(getUpsertProductMethod())
              .addMethod(getGetProductMethod())
              .addMethod(getBatchGetProductsMethod())
              .addMethod(getDeleteProductMethod())
              .addMethod(getSearchProductsMethod())
              .addMethod(getImportProductsMethod())
              .addMethod(getSuggestProductsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
