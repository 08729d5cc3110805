package io.datagw.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * User sessions in Redis, with TTLs and sliding expiry from the sessions policy.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class SessionServiceGrpc {

  private SessionServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "datagw.v1.SessionService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.CreateSessionRequest,
      io.datagw.v1.CreateSessionResponse> getCreateSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateSession",
      requestType = io.datagw.v1.CreateSessionRequest.class,
      responseType = io.datagw.v1.CreateSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.CreateSessionRequest,
      io.datagw.v1.CreateSessionResponse> getCreateSessionMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.CreateSessionRequest, io.datagw.v1.CreateSessionResponse> getCreateSessionMethod;
    if ((getCreateSessionMethod = SessionServiceGrpc.getCreateSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getCreateSessionMethod = SessionServiceGrpc.getCreateSessionMethod) == null) {
          SessionServiceGrpc.getCreateSessionMethod = getCreateSessionMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.CreateSessionRequest, io.datagw.v1.CreateSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.CreateSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.CreateSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("CreateSession"))
              .build();
        }
      }
    }
    return getCreateSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetSessionRequest,
      io.datagw.v1.GetSessionResponse> getGetSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetSession",
      requestType = io.datagw.v1.GetSessionRequest.class,
      responseType = io.datagw.v1.GetSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetSessionRequest,
      io.datagw.v1.GetSessionResponse> getGetSessionMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetSessionRequest, io.datagw.v1.GetSessionResponse> getGetSessionMethod;
    if ((getGetSessionMethod = SessionServiceGrpc.getGetSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getGetSessionMethod = SessionServiceGrpc.getGetSessionMethod) == null) {
          SessionServiceGrpc.getGetSessionMethod = getGetSessionMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetSessionRequest, io.datagw.v1.GetSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("GetSession"))
              .build();
        }
      }
    }
    return getGetSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.UpdateSessionRequest,
      io.datagw.v1.UpdateSessionResponse> getUpdateSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateSession",
      requestType = io.datagw.v1.UpdateSessionRequest.class,
      responseType = io.datagw.v1.UpdateSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.UpdateSessionRequest,
      io.datagw.v1.UpdateSessionResponse> getUpdateSessionMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.UpdateSessionRequest, io.datagw.v1.UpdateSessionResponse> getUpdateSessionMethod;
    if ((getUpdateSessionMethod = SessionServiceGrpc.getUpdateSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getUpdateSessionMethod = SessionServiceGrpc.getUpdateSessionMethod) == null) {
          SessionServiceGrpc.getUpdateSessionMethod = getUpdateSessionMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.UpdateSessionRequest, io.datagw.v1.UpdateSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.UpdateSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.UpdateSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("UpdateSession"))
              .build();
        }
      }
    }
    return getUpdateSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.TouchSessionRequest,
      io.datagw.v1.TouchSessionResponse> getTouchSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "TouchSession",
      requestType = io.datagw.v1.TouchSessionRequest.class,
      responseType = io.datagw.v1.TouchSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.TouchSessionRequest,
      io.datagw.v1.TouchSessionResponse> getTouchSessionMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.TouchSessionRequest, io.datagw.v1.TouchSessionResponse> getTouchSessionMethod;
    if ((getTouchSessionMethod = SessionServiceGrpc.getTouchSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getTouchSessionMethod = SessionServiceGrpc.getTouchSessionMethod) == null) {
          SessionServiceGrpc.getTouchSessionMethod = getTouchSessionMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.TouchSessionRequest, io.datagw.v1.TouchSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "TouchSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.TouchSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.TouchSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("TouchSession"))
              .build();
        }
      }
    }
    return getTouchSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.DeleteSessionRequest,
      io.datagw.v1.DeleteSessionResponse> getDeleteSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteSession",
      requestType = io.datagw.v1.DeleteSessionRequest.class,
      responseType = io.datagw.v1.DeleteSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.DeleteSessionRequest,
      io.datagw.v1.DeleteSessionResponse> getDeleteSessionMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.DeleteSessionRequest, io.datagw.v1.DeleteSessionResponse> getDeleteSessionMethod;
    if ((getDeleteSessionMethod = SessionServiceGrpc.getDeleteSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getDeleteSessionMethod = SessionServiceGrpc.getDeleteSessionMethod) == null) {
          SessionServiceGrpc.getDeleteSessionMethod = getDeleteSessionMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.DeleteSessionRequest, io.datagw.v1.DeleteSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.DeleteSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.DeleteSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("DeleteSession"))
              .build();
        }
      }
    }
    return getDeleteSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ListUserSessionsRequest,
      io.datagw.v1.ListUserSessionsResponse> getListUserSessionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListUserSessions",
      requestType = io.datagw.v1.ListUserSessionsRequest.class,
      responseType = io.datagw.v1.ListUserSessionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ListUserSessionsRequest,
      io.datagw.v1.ListUserSessionsResponse> getListUserSessionsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ListUserSessionsRequest, io.datagw.v1.ListUserSessionsResponse> getListUserSessionsMethod;
    if ((getListUserSessionsMethod = SessionServiceGrpc.getListUserSessionsMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getListUserSessionsMethod = SessionServiceGrpc.getListUserSessionsMethod) == null) {
          SessionServiceGrpc.getListUserSessionsMethod = getListUserSessionsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ListUserSessionsRequest, io.datagw.v1.ListUserSessionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListUserSessions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ListUserSessionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ListUserSessionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("ListUserSessions"))
              .build();
        }
      }
    }
    return getListUserSessionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.DeleteUserSessionsRequest,
      io.datagw.v1.DeleteUserSessionsResponse> getDeleteUserSessionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteUserSessions",
      requestType = io.datagw.v1.DeleteUserSessionsRequest.class,
      responseType = io.datagw.v1.DeleteUserSessionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.DeleteUserSessionsRequest,
      io.datagw.v1.DeleteUserSessionsResponse> getDeleteUserSessionsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.DeleteUserSessionsRequest, io.datagw.v1.DeleteUserSessionsResponse> getDeleteUserSessionsMethod;
    if ((getDeleteUserSessionsMethod = SessionServiceGrpc.getDeleteUserSessionsMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getDeleteUserSessionsMethod = SessionServiceGrpc.getDeleteUserSessionsMethod) == null) {
          SessionServiceGrpc.getDeleteUserSessionsMethod = getDeleteUserSessionsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.DeleteUserSessionsRequest, io.datagw.v1.DeleteUserSessionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteUserSessions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.DeleteUserSessionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.DeleteUserSessionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("DeleteUserSessions"))
              .build();
        }
      }
    }
    return getDeleteUserSessionsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static SessionServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceStub>() {
        @java.lang.Override
        public SessionServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceStub(channel, callOptions);
        }
      };
    return SessionServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static SessionServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceBlockingV2Stub>() {
        @java.lang.Override
        public SessionServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return SessionServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static SessionServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceBlockingStub>() {
        @java.lang.Override
        public SessionServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceBlockingStub(channel, callOptions);
        }
      };
    return SessionServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static SessionServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceFutureStub>() {
        @java.lang.Override
        public SessionServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceFutureStub(channel, callOptions);
        }
      };
    return SessionServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * User sessions in Redis, with TTLs and sliding expiry from the sessions policy.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates a session with an unguessable id.
     * </pre>
     */
    default void createSession(io.datagw.v1.CreateSessionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.CreateSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads a session; extends its expiry when the policy says sliding.
     * </pre>
     */
    default void getSession(io.datagw.v1.GetSessionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Merges data into a session and removes keys.
     * </pre>
     */
    default void updateSession(io.datagw.v1.UpdateSessionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.UpdateSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Extends a session's expiry without reading its data.
     * </pre>
     */
    default void touchSession(io.datagw.v1.TouchSessionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.TouchSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTouchSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes one session.
     * </pre>
     */
    default void deleteSession(io.datagw.v1.DeleteSessionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.DeleteSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists a user's live sessions.
     * </pre>
     */
    default void listUserSessions(io.datagw.v1.ListUserSessionsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ListUserSessionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListUserSessionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes every session of a user (log out everywhere).
     * </pre>
     */
    default void deleteUserSessions(io.datagw.v1.DeleteUserSessionsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.DeleteUserSessionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteUserSessionsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service SessionService.
   * <pre>
   * User sessions in Redis, with TTLs and sliding expiry from the sessions policy.
   * </pre>
   */
  public static abstract class SessionServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return SessionServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service SessionService.
   * <pre>
   * User sessions in Redis, with TTLs and sliding expiry from the sessions policy.
   * </pre>
   */
  public static final class SessionServiceStub
      extends io.grpc.stub.AbstractAsyncStub<SessionServiceStub> {
    private SessionServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a session with an unguessable id.
     * </pre>
     */
    public void createSession(io.datagw.v1.CreateSessionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.CreateSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads a session; extends its expiry when the policy says sliding.
     * </pre>
     */
    public void getSession(io.datagw.v1.GetSessionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Merges data into a session and removes keys.
     * </pre>
     */
    public void updateSession(io.datagw.v1.UpdateSessionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.UpdateSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Extends a session's expiry without reading its data.
     * </pre>
     */
    public void touchSession(io.datagw.v1.TouchSessionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.TouchSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTouchSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes one session.
     * </pre>
     */
    public void deleteSession(io.datagw.v1.DeleteSessionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.DeleteSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists a user's live sessions.
     * </pre>
     */
    public void listUserSessions(io.datagw.v1.ListUserSessionsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ListUserSessionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListUserSessionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes every session of a user (log out everywhere).
     * </pre>
     */
    public void deleteUserSessions(io.datagw.v1.DeleteUserSessionsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.DeleteUserSessionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteUserSessionsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service SessionService.
   * <pre>
   * User sessions in Redis, with TTLs and sliding expiry from the sessions policy.
   * </pre>
   */
  public static final class SessionServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<SessionServiceBlockingV2Stub> {
    private SessionServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a session with an unguessable id.
     * </pre>
     */
    public io.datagw.v1.CreateSessionResponse createSession(io.datagw.v1.CreateSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a session; extends its expiry when the policy says sliding.
     * </pre>
     */
    public io.datagw.v1.GetSessionResponse getSession(io.datagw.v1.GetSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Merges data into a session and removes keys.
     * </pre>
     */
    public io.datagw.v1.UpdateSessionResponse updateSession(io.datagw.v1.UpdateSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdateSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Extends a session's expiry without reading its data.
     * </pre>
     */
    public io.datagw.v1.TouchSessionResponse touchSession(io.datagw.v1.TouchSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getTouchSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes one session.
     * </pre>
     */
    public io.datagw.v1.DeleteSessionResponse deleteSession(io.datagw.v1.DeleteSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists a user's live sessions.
     * </pre>
     */
    public io.datagw.v1.ListUserSessionsResponse listUserSessions(io.datagw.v1.ListUserSessionsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListUserSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes every session of a user (log out everywhere).
     * </pre>
     */
    public io.datagw.v1.DeleteUserSessionsResponse deleteUserSessions(io.datagw.v1.DeleteUserSessionsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteUserSessionsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service SessionService.
   * <pre>
   * User sessions in Redis, with TTLs and sliding expiry from the sessions policy.
   * </pre>
   */
  public static final class SessionServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<SessionServiceBlockingStub> {
    private SessionServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a session with an unguessable id.
     * </pre>
     */
    public io.datagw.v1.CreateSessionResponse createSession(io.datagw.v1.CreateSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a session; extends its expiry when the policy says sliding.
     * </pre>
     */
    public io.datagw.v1.GetSessionResponse getSession(io.datagw.v1.GetSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Merges data into a session and removes keys.
     * </pre>
     */
    public io.datagw.v1.UpdateSessionResponse updateSession(io.datagw.v1.UpdateSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Extends a session's expiry without reading its data.
     * </pre>
     */
    public io.datagw.v1.TouchSessionResponse touchSession(io.datagw.v1.TouchSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTouchSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes one session.
     * </pre>
     */
    public io.datagw.v1.DeleteSessionResponse deleteSession(io.datagw.v1.DeleteSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists a user's live sessions.
     * </pre>
     */
    public io.datagw.v1.ListUserSessionsResponse listUserSessions(io.datagw.v1.ListUserSessionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListUserSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes every session of a user (log out everywhere).
     * </pre>
     */
    public io.datagw.v1.DeleteUserSessionsResponse deleteUserSessions(io.datagw.v1.DeleteUserSessionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteUserSessionsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service SessionService.
   * <pre>
   * User sessions in Redis, with TTLs and sliding expiry from the sessions policy.
   * </pre>
   */
  public static final class SessionServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<SessionServiceFutureStub> {
    private SessionServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a session with an unguessable id.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.CreateSessionResponse> createSession(
        io.datagw.v1.CreateSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads a session; extends its expiry when the policy says sliding.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetSessionResponse> getSession(
        io.datagw.v1.GetSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Merges data into a session and removes keys.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.UpdateSessionResponse> updateSession(
        io.datagw.v1.UpdateSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Extends a session's expiry without reading its data.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.TouchSessionResponse> touchSession(
        io.datagw.v1.TouchSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTouchSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes one session.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.DeleteSessionResponse> deleteSession(
        io.datagw.v1.DeleteSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists a user's live sessions.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ListUserSessionsResponse> listUserSessions(
        io.datagw.v1.ListUserSessionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListUserSessionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes every session of a user (log out everywhere).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.DeleteUserSessionsResponse> deleteUserSessions(
        io.datagw.v1.DeleteUserSessionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteUserSessionsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_SESSION = 0;
  private static final int METHODID_GET_SESSION = 1;
  private static final int METHODID_UPDATE_SESSION = 2;
  private static final int METHODID_TOUCH_SESSION = 3;
  private static final int METHODID_DELETE_SESSION = 4;
  private static final int METHODID_LIST_USER_SESSIONS = 5;
  private static final int METHODID_DELETE_USER_SESSIONS = 6;

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
        case METHODID_CREATE_SESSION:
          serviceImpl.createSession((io.datagw.v1.CreateSessionRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.CreateSessionResponse>) responseObserver);
          break;
        case METHODID_GET_SESSION:
          serviceImpl.getSession((io.datagw.v1.GetSessionRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetSessionResponse>) responseObserver);
          break;
        case METHODID_UPDATE_SESSION:
          serviceImpl.updateSession((io.datagw.v1.UpdateSessionRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.UpdateSessionResponse>) responseObserver);
          break;
        case METHODID_TOUCH_SESSION:
          serviceImpl.touchSession((io.datagw.v1.TouchSessionRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.TouchSessionResponse>) responseObserver);
          break;
        case METHODID_DELETE_SESSION:
          serviceImpl.deleteSession((io.datagw.v1.DeleteSessionRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.DeleteSessionResponse>) responseObserver);
          break;
        case METHODID_LIST_USER_SESSIONS:
          serviceImpl.listUserSessions((io.datagw.v1.ListUserSessionsRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ListUserSessionsResponse>) responseObserver);
          break;
        case METHODID_DELETE_USER_SESSIONS:
          serviceImpl.deleteUserSessions((io.datagw.v1.DeleteUserSessionsRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.DeleteUserSessionsResponse>) responseObserver);
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
          getCreateSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.CreateSessionRequest,
              io.datagw.v1.CreateSessionResponse>(
                service, METHODID_CREATE_SESSION)))
        .addMethod(
          getGetSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetSessionRequest,
              io.datagw.v1.GetSessionResponse>(
                service, METHODID_GET_SESSION)))
        .addMethod(
          getUpdateSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.UpdateSessionRequest,
              io.datagw.v1.UpdateSessionResponse>(
                service, METHODID_UPDATE_SESSION)))
        .addMethod(
          getTouchSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.TouchSessionRequest,
              io.datagw.v1.TouchSessionResponse>(
                service, METHODID_TOUCH_SESSION)))
        .addMethod(
          getDeleteSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.DeleteSessionRequest,
              io.datagw.v1.DeleteSessionResponse>(
                service, METHODID_DELETE_SESSION)))
        .addMethod(
          getListUserSessionsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ListUserSessionsRequest,
              io.datagw.v1.ListUserSessionsResponse>(
                service, METHODID_LIST_USER_SESSIONS)))
        .addMethod(
          getDeleteUserSessionsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.DeleteUserSessionsRequest,
              io.datagw.v1.DeleteUserSessionsResponse>(
                service, METHODID_DELETE_USER_SESSIONS)))
        .build();
  }

  private static abstract class SessionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    SessionServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.datagw.v1.SessionOuterClass.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("SessionService");
    }
  }

  private static final class SessionServiceFileDescriptorSupplier
      extends SessionServiceBaseDescriptorSupplier {
    SessionServiceFileDescriptorSupplier() {}
  }

  private static final class SessionServiceMethodDescriptorSupplier
      extends SessionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    SessionServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (SessionServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new SessionServiceFileDescriptorSupplier())
              .addMethod(getCreateSessionMethod())
              .addMethod(getGetSessionMethod())
              .addMethod(getUpdateSessionMethod())
              .addMethod(getTouchSessionMethod())
              .addMethod(getDeleteSessionMethod())
              .addMethod(getListUserSessionsMethod())
              .addMethod(getDeleteUserSessionsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
