package io.datagw.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Users of the shop. A user's row, orders, payments and events live on the
 * commerce shard that owns the user's keyspace id (see docs/sharding.md).
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class UserServiceGrpc {

  private UserServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "datagw.v1.UserService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.CreateUserRequest,
      io.datagw.v1.CreateUserResponse> getCreateUserMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateUser",
      requestType = io.datagw.v1.CreateUserRequest.class,
      responseType = io.datagw.v1.CreateUserResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.CreateUserRequest,
      io.datagw.v1.CreateUserResponse> getCreateUserMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.CreateUserRequest, io.datagw.v1.CreateUserResponse> getCreateUserMethod;
    if ((getCreateUserMethod = UserServiceGrpc.getCreateUserMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getCreateUserMethod = UserServiceGrpc.getCreateUserMethod) == null) {
          UserServiceGrpc.getCreateUserMethod = getCreateUserMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.CreateUserRequest, io.datagw.v1.CreateUserResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateUser"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.CreateUserRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.CreateUserResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("CreateUser"))
              .build();
        }
      }
    }
    return getCreateUserMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetUserRequest,
      io.datagw.v1.GetUserResponse> getGetUserMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetUser",
      requestType = io.datagw.v1.GetUserRequest.class,
      responseType = io.datagw.v1.GetUserResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetUserRequest,
      io.datagw.v1.GetUserResponse> getGetUserMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetUserRequest, io.datagw.v1.GetUserResponse> getGetUserMethod;
    if ((getGetUserMethod = UserServiceGrpc.getGetUserMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getGetUserMethod = UserServiceGrpc.getGetUserMethod) == null) {
          UserServiceGrpc.getGetUserMethod = getGetUserMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetUserRequest, io.datagw.v1.GetUserResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetUser"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetUserRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetUserResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("GetUser"))
              .build();
        }
      }
    }
    return getGetUserMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetUserByEmailRequest,
      io.datagw.v1.GetUserByEmailResponse> getGetUserByEmailMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetUserByEmail",
      requestType = io.datagw.v1.GetUserByEmailRequest.class,
      responseType = io.datagw.v1.GetUserByEmailResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetUserByEmailRequest,
      io.datagw.v1.GetUserByEmailResponse> getGetUserByEmailMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetUserByEmailRequest, io.datagw.v1.GetUserByEmailResponse> getGetUserByEmailMethod;
    if ((getGetUserByEmailMethod = UserServiceGrpc.getGetUserByEmailMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getGetUserByEmailMethod = UserServiceGrpc.getGetUserByEmailMethod) == null) {
          UserServiceGrpc.getGetUserByEmailMethod = getGetUserByEmailMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetUserByEmailRequest, io.datagw.v1.GetUserByEmailResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetUserByEmail"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetUserByEmailRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetUserByEmailResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("GetUserByEmail"))
              .build();
        }
      }
    }
    return getGetUserByEmailMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.UpdateUserRequest,
      io.datagw.v1.UpdateUserResponse> getUpdateUserMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateUser",
      requestType = io.datagw.v1.UpdateUserRequest.class,
      responseType = io.datagw.v1.UpdateUserResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.UpdateUserRequest,
      io.datagw.v1.UpdateUserResponse> getUpdateUserMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.UpdateUserRequest, io.datagw.v1.UpdateUserResponse> getUpdateUserMethod;
    if ((getUpdateUserMethod = UserServiceGrpc.getUpdateUserMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getUpdateUserMethod = UserServiceGrpc.getUpdateUserMethod) == null) {
          UserServiceGrpc.getUpdateUserMethod = getUpdateUserMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.UpdateUserRequest, io.datagw.v1.UpdateUserResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateUser"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.UpdateUserRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.UpdateUserResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("UpdateUser"))
              .build();
        }
      }
    }
    return getUpdateUserMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetUserSummaryRequest,
      io.datagw.v1.GetUserSummaryResponse> getGetUserSummaryMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetUserSummary",
      requestType = io.datagw.v1.GetUserSummaryRequest.class,
      responseType = io.datagw.v1.GetUserSummaryResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetUserSummaryRequest,
      io.datagw.v1.GetUserSummaryResponse> getGetUserSummaryMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetUserSummaryRequest, io.datagw.v1.GetUserSummaryResponse> getGetUserSummaryMethod;
    if ((getGetUserSummaryMethod = UserServiceGrpc.getGetUserSummaryMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getGetUserSummaryMethod = UserServiceGrpc.getGetUserSummaryMethod) == null) {
          UserServiceGrpc.getGetUserSummaryMethod = getGetUserSummaryMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetUserSummaryRequest, io.datagw.v1.GetUserSummaryResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetUserSummary"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetUserSummaryRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetUserSummaryResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("GetUserSummary"))
              .build();
        }
      }
    }
    return getGetUserSummaryMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.EraseUserRequest,
      io.datagw.v1.EraseUserResponse> getEraseUserMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "EraseUser",
      requestType = io.datagw.v1.EraseUserRequest.class,
      responseType = io.datagw.v1.EraseUserResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.EraseUserRequest,
      io.datagw.v1.EraseUserResponse> getEraseUserMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.EraseUserRequest, io.datagw.v1.EraseUserResponse> getEraseUserMethod;
    if ((getEraseUserMethod = UserServiceGrpc.getEraseUserMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getEraseUserMethod = UserServiceGrpc.getEraseUserMethod) == null) {
          UserServiceGrpc.getEraseUserMethod = getEraseUserMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.EraseUserRequest, io.datagw.v1.EraseUserResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "EraseUser"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.EraseUserRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.EraseUserResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("EraseUser"))
              .build();
        }
      }
    }
    return getEraseUserMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static UserServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<UserServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<UserServiceStub>() {
        @java.lang.Override
        public UserServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new UserServiceStub(channel, callOptions);
        }
      };
    return UserServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static UserServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<UserServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<UserServiceBlockingV2Stub>() {
        @java.lang.Override
        public UserServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new UserServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return UserServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static UserServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<UserServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<UserServiceBlockingStub>() {
        @java.lang.Override
        public UserServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new UserServiceBlockingStub(channel, callOptions);
        }
      };
    return UserServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static UserServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<UserServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<UserServiceFutureStub>() {
        @java.lang.Override
        public UserServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new UserServiceFutureStub(channel, callOptions);
        }
      };
    return UserServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Users of the shop. A user's row, orders, payments and events live on the
   * commerce shard that owns the user's keyspace id (see docs/sharding.md).
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates a user. The email must be unused (ALREADY_EXISTS/EMAIL_TAKEN).
     * </pre>
     */
    default void createUser(io.datagw.v1.CreateUserRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.CreateUserResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateUserMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads a user by id.
     * </pre>
     */
    default void getUser(io.datagw.v1.GetUserRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetUserResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetUserMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads a user by email through the email lookup table (no scatter).
     * </pre>
     */
    default void getUserByEmail(io.datagw.v1.GetUserByEmailRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetUserByEmailResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetUserByEmailMethod(), responseObserver);
    }

    /**
     * <pre>
     * Changes a user's email and/or display name; `expected_version` guards
     * against lost updates (ABORTED/VERSION_MISMATCH).
     * </pre>
     */
    default void updateUser(io.datagw.v1.UpdateUserRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.UpdateUserResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateUserMethod(), responseObserver);
    }

    /**
     * <pre>
     * The user's order summary, a read model kept by the "user_order_summary"
     * projection from the order events (eventually consistent; the response
     * says how far the projection has read).
     * </pre>
     */
    default void getUserSummary(io.datagw.v1.GetUserSummaryRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetUserSummaryResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetUserSummaryMethod(), responseObserver);
    }

    /**
     * <pre>
     * Erases a user's personal data (GDPR): deletes the user's encryption key
     * so the personal data in every event (and backup) becomes unreadable,
     * anonymises the user row and the order addresses, drops the user from
     * read models and analytics; orders and their totals stay, anonymised.
     * The erasure is itself an audited event. Idempotent.
     * </pre>
     */
    default void eraseUser(io.datagw.v1.EraseUserRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.EraseUserResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getEraseUserMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service UserService.
   * <pre>
   * Users of the shop. A user's row, orders, payments and events live on the
   * commerce shard that owns the user's keyspace id (see docs/sharding.md).
   * </pre>
   */
  public static abstract class UserServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return UserServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service UserService.
   * <pre>
   * Users of the shop. A user's row, orders, payments and events live on the
   * commerce shard that owns the user's keyspace id (see docs/sharding.md).
   * </pre>
   */
  public static final class UserServiceStub
      extends io.grpc.stub.AbstractAsyncStub<UserServiceStub> {
    private UserServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected UserServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new UserServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a user. The email must be unused (ALREADY_EXISTS/EMAIL_TAKEN).
     * </pre>
     */
    public void createUser(io.datagw.v1.CreateUserRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.CreateUserResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateUserMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads a user by id.
     * </pre>
     */
    public void getUser(io.datagw.v1.GetUserRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetUserResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetUserMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads a user by email through the email lookup table (no scatter).
     * </pre>
     */
    public void getUserByEmail(io.datagw.v1.GetUserByEmailRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetUserByEmailResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetUserByEmailMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Changes a user's email and/or display name; `expected_version` guards
     * against lost updates (ABORTED/VERSION_MISMATCH).
     * </pre>
     */
    public void updateUser(io.datagw.v1.UpdateUserRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.UpdateUserResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateUserMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The user's order summary, a read model kept by the "user_order_summary"
     * projection from the order events (eventually consistent; the response
     * says how far the projection has read).
     * </pre>
     */
    public void getUserSummary(io.datagw.v1.GetUserSummaryRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetUserSummaryResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetUserSummaryMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Erases a user's personal data (GDPR): deletes the user's encryption key
     * so the personal data in every event (and backup) becomes unreadable,
     * anonymises the user row and the order addresses, drops the user from
     * read models and analytics; orders and their totals stay, anonymised.
     * The erasure is itself an audited event. Idempotent.
     * </pre>
     */
    public void eraseUser(io.datagw.v1.EraseUserRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.EraseUserResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getEraseUserMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service UserService.
   * <pre>
   * Users of the shop. A user's row, orders, payments and events live on the
   * commerce shard that owns the user's keyspace id (see docs/sharding.md).
   * </pre>
   */
  public static final class UserServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<UserServiceBlockingV2Stub> {
    private UserServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected UserServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new UserServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a user. The email must be unused (ALREADY_EXISTS/EMAIL_TAKEN).
     * </pre>
     */
    public io.datagw.v1.CreateUserResponse createUser(io.datagw.v1.CreateUserRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a user by id.
     * </pre>
     */
    public io.datagw.v1.GetUserResponse getUser(io.datagw.v1.GetUserRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a user by email through the email lookup table (no scatter).
     * </pre>
     */
    public io.datagw.v1.GetUserByEmailResponse getUserByEmail(io.datagw.v1.GetUserByEmailRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetUserByEmailMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes a user's email and/or display name; `expected_version` guards
     * against lost updates (ABORTED/VERSION_MISMATCH).
     * </pre>
     */
    public io.datagw.v1.UpdateUserResponse updateUser(io.datagw.v1.UpdateUserRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdateUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The user's order summary, a read model kept by the "user_order_summary"
     * projection from the order events (eventually consistent; the response
     * says how far the projection has read).
     * </pre>
     */
    public io.datagw.v1.GetUserSummaryResponse getUserSummary(io.datagw.v1.GetUserSummaryRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetUserSummaryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Erases a user's personal data (GDPR): deletes the user's encryption key
     * so the personal data in every event (and backup) becomes unreadable,
     * anonymises the user row and the order addresses, drops the user from
     * read models and analytics; orders and their totals stay, anonymised.
     * The erasure is itself an audited event. Idempotent.
     * </pre>
     */
    public io.datagw.v1.EraseUserResponse eraseUser(io.datagw.v1.EraseUserRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getEraseUserMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service UserService.
   * <pre>
   * Users of the shop. A user's row, orders, payments and events live on the
   * commerce shard that owns the user's keyspace id (see docs/sharding.md).
   * </pre>
   */
  public static final class UserServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<UserServiceBlockingStub> {
    private UserServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected UserServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new UserServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a user. The email must be unused (ALREADY_EXISTS/EMAIL_TAKEN).
     * </pre>
     */
    public io.datagw.v1.CreateUserResponse createUser(io.datagw.v1.CreateUserRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a user by id.
     * </pre>
     */
    public io.datagw.v1.GetUserResponse getUser(io.datagw.v1.GetUserRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a user by email through the email lookup table (no scatter).
     * </pre>
     */
    public io.datagw.v1.GetUserByEmailResponse getUserByEmail(io.datagw.v1.GetUserByEmailRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetUserByEmailMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes a user's email and/or display name; `expected_version` guards
     * against lost updates (ABORTED/VERSION_MISMATCH).
     * </pre>
     */
    public io.datagw.v1.UpdateUserResponse updateUser(io.datagw.v1.UpdateUserRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The user's order summary, a read model kept by the "user_order_summary"
     * projection from the order events (eventually consistent; the response
     * says how far the projection has read).
     * </pre>
     */
    public io.datagw.v1.GetUserSummaryResponse getUserSummary(io.datagw.v1.GetUserSummaryRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetUserSummaryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Erases a user's personal data (GDPR): deletes the user's encryption key
     * so the personal data in every event (and backup) becomes unreadable,
     * anonymises the user row and the order addresses, drops the user from
     * read models and analytics; orders and their totals stay, anonymised.
     * The erasure is itself an audited event. Idempotent.
     * </pre>
     */
    public io.datagw.v1.EraseUserResponse eraseUser(io.datagw.v1.EraseUserRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getEraseUserMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service UserService.
   * <pre>
   * Users of the shop. A user's row, orders, payments and events live on the
   * commerce shard that owns the user's keyspace id (see docs/sharding.md).
   * </pre>
   */
  public static final class UserServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<UserServiceFutureStub> {
    private UserServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected UserServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new UserServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a user. The email must be unused (ALREADY_EXISTS/EMAIL_TAKEN).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.CreateUserResponse> createUser(
        io.datagw.v1.CreateUserRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateUserMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads a user by id.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetUserResponse> getUser(
        io.datagw.v1.GetUserRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetUserMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads a user by email through the email lookup table (no scatter).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetUserByEmailResponse> getUserByEmail(
        io.datagw.v1.GetUserByEmailRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetUserByEmailMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Changes a user's email and/or display name; `expected_version` guards
     * against lost updates (ABORTED/VERSION_MISMATCH).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.UpdateUserResponse> updateUser(
        io.datagw.v1.UpdateUserRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateUserMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The user's order summary, a read model kept by the "user_order_summary"
     * projection from the order events (eventually consistent; the response
     * says how far the projection has read).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetUserSummaryResponse> getUserSummary(
        io.datagw.v1.GetUserSummaryRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetUserSummaryMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Erases a user's personal data (GDPR): deletes the user's encryption key
     * so the personal data in every event (and backup) becomes unreadable,
     * anonymises the user row and the order addresses, drops the user from
     * read models and analytics; orders and their totals stay, anonymised.
     * The erasure is itself an audited event. Idempotent.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.EraseUserResponse> eraseUser(
        io.datagw.v1.EraseUserRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getEraseUserMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_USER = 0;
  private static final int METHODID_GET_USER = 1;
  private static final int METHODID_GET_USER_BY_EMAIL = 2;
  private static final int METHODID_UPDATE_USER = 3;
  private static final int METHODID_GET_USER_SUMMARY = 4;
  private static final int METHODID_ERASE_USER = 5;

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
        case METHODID_CREATE_USER:
          serviceImpl.createUser((io.datagw.v1.CreateUserRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.CreateUserResponse>) responseObserver);
          break;
        case METHODID_GET_USER:
          serviceImpl.getUser((io.datagw.v1.GetUserRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetUserResponse>) responseObserver);
          break;
        case METHODID_GET_USER_BY_EMAIL:
          serviceImpl.getUserByEmail((io.datagw.v1.GetUserByEmailRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetUserByEmailResponse>) responseObserver);
          break;
        case METHODID_UPDATE_USER:
          serviceImpl.updateUser((io.datagw.v1.UpdateUserRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.UpdateUserResponse>) responseObserver);
          break;
        case METHODID_GET_USER_SUMMARY:
          serviceImpl.getUserSummary((io.datagw.v1.GetUserSummaryRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetUserSummaryResponse>) responseObserver);
          break;
        case METHODID_ERASE_USER:
          serviceImpl.eraseUser((io.datagw.v1.EraseUserRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.EraseUserResponse>) responseObserver);
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
          getCreateUserMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.CreateUserRequest,
              io.datagw.v1.CreateUserResponse>(
                service, METHODID_CREATE_USER)))
        .addMethod(
          getGetUserMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetUserRequest,
              io.datagw.v1.GetUserResponse>(
                service, METHODID_GET_USER)))
        .addMethod(
          getGetUserByEmailMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetUserByEmailRequest,
              io.datagw.v1.GetUserByEmailResponse>(
                service, METHODID_GET_USER_BY_EMAIL)))
        .addMethod(
          getUpdateUserMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.UpdateUserRequest,
              io.datagw.v1.UpdateUserResponse>(
                service, METHODID_UPDATE_USER)))
        .addMethod(
          getGetUserSummaryMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetUserSummaryRequest,
              io.datagw.v1.GetUserSummaryResponse>(
                service, METHODID_GET_USER_SUMMARY)))
        .addMethod(
          getEraseUserMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.EraseUserRequest,
              io.datagw.v1.EraseUserResponse>(
                service, METHODID_ERASE_USER)))
        .build();
  }

  private static abstract class UserServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    UserServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.datagw.v1.UserOuterClass.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("UserService");
    }
  }

  private static final class UserServiceFileDescriptorSupplier
      extends UserServiceBaseDescriptorSupplier {
    UserServiceFileDescriptorSupplier() {}
  }

  private static final class UserServiceMethodDescriptorSupplier
      extends UserServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    UserServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (UserServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new UserServiceFileDescriptorSupplier())
              .addMethod(getCreateUserMethod())
              .addMethod(getGetUserMethod())
              .addMethod(getGetUserByEmailMethod())
              .addMethod(getUpdateUserMethod())
              .addMethod(getGetUserSummaryMethod())
              .addMethod(getEraseUserMethod())
              .build();
        }
      }
    }
    return result;
  }
}
