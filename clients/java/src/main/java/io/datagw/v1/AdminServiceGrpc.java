package io.datagw.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Operator's view of the gateway: topology, policies, cache.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class AdminServiceGrpc {

  private AdminServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "datagw.v1.AdminService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetTopologyRequest,
      io.datagw.v1.GetTopologyResponse> getGetTopologyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetTopology",
      requestType = io.datagw.v1.GetTopologyRequest.class,
      responseType = io.datagw.v1.GetTopologyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetTopologyRequest,
      io.datagw.v1.GetTopologyResponse> getGetTopologyMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetTopologyRequest, io.datagw.v1.GetTopologyResponse> getGetTopologyMethod;
    if ((getGetTopologyMethod = AdminServiceGrpc.getGetTopologyMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getGetTopologyMethod = AdminServiceGrpc.getGetTopologyMethod) == null) {
          AdminServiceGrpc.getGetTopologyMethod = getGetTopologyMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetTopologyRequest, io.datagw.v1.GetTopologyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetTopology"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetTopologyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetTopologyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("GetTopology"))
              .build();
        }
      }
    }
    return getGetTopologyMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetPoliciesRequest,
      io.datagw.v1.GetPoliciesResponse> getGetPoliciesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetPolicies",
      requestType = io.datagw.v1.GetPoliciesRequest.class,
      responseType = io.datagw.v1.GetPoliciesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetPoliciesRequest,
      io.datagw.v1.GetPoliciesResponse> getGetPoliciesMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetPoliciesRequest, io.datagw.v1.GetPoliciesResponse> getGetPoliciesMethod;
    if ((getGetPoliciesMethod = AdminServiceGrpc.getGetPoliciesMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getGetPoliciesMethod = AdminServiceGrpc.getGetPoliciesMethod) == null) {
          AdminServiceGrpc.getGetPoliciesMethod = getGetPoliciesMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetPoliciesRequest, io.datagw.v1.GetPoliciesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetPolicies"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetPoliciesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetPoliciesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("GetPolicies"))
              .build();
        }
      }
    }
    return getGetPoliciesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ReloadPoliciesRequest,
      io.datagw.v1.ReloadPoliciesResponse> getReloadPoliciesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ReloadPolicies",
      requestType = io.datagw.v1.ReloadPoliciesRequest.class,
      responseType = io.datagw.v1.ReloadPoliciesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ReloadPoliciesRequest,
      io.datagw.v1.ReloadPoliciesResponse> getReloadPoliciesMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ReloadPoliciesRequest, io.datagw.v1.ReloadPoliciesResponse> getReloadPoliciesMethod;
    if ((getReloadPoliciesMethod = AdminServiceGrpc.getReloadPoliciesMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getReloadPoliciesMethod = AdminServiceGrpc.getReloadPoliciesMethod) == null) {
          AdminServiceGrpc.getReloadPoliciesMethod = getReloadPoliciesMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ReloadPoliciesRequest, io.datagw.v1.ReloadPoliciesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ReloadPolicies"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReloadPoliciesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReloadPoliciesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ReloadPolicies"))
              .build();
        }
      }
    }
    return getReloadPoliciesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.FlushCacheRequest,
      io.datagw.v1.FlushCacheResponse> getFlushCacheMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "FlushCache",
      requestType = io.datagw.v1.FlushCacheRequest.class,
      responseType = io.datagw.v1.FlushCacheResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.FlushCacheRequest,
      io.datagw.v1.FlushCacheResponse> getFlushCacheMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.FlushCacheRequest, io.datagw.v1.FlushCacheResponse> getFlushCacheMethod;
    if ((getFlushCacheMethod = AdminServiceGrpc.getFlushCacheMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getFlushCacheMethod = AdminServiceGrpc.getFlushCacheMethod) == null) {
          AdminServiceGrpc.getFlushCacheMethod = getFlushCacheMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.FlushCacheRequest, io.datagw.v1.FlushCacheResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "FlushCache"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.FlushCacheRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.FlushCacheResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("FlushCache"))
              .build();
        }
      }
    }
    return getFlushCacheMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.AdminServiceListOrdersRequest,
      io.datagw.v1.AdminServiceListOrdersResponse> getListOrdersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListOrders",
      requestType = io.datagw.v1.AdminServiceListOrdersRequest.class,
      responseType = io.datagw.v1.AdminServiceListOrdersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.AdminServiceListOrdersRequest,
      io.datagw.v1.AdminServiceListOrdersResponse> getListOrdersMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.AdminServiceListOrdersRequest, io.datagw.v1.AdminServiceListOrdersResponse> getListOrdersMethod;
    if ((getListOrdersMethod = AdminServiceGrpc.getListOrdersMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getListOrdersMethod = AdminServiceGrpc.getListOrdersMethod) == null) {
          AdminServiceGrpc.getListOrdersMethod = getListOrdersMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.AdminServiceListOrdersRequest, io.datagw.v1.AdminServiceListOrdersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListOrders"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.AdminServiceListOrdersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.AdminServiceListOrdersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ListOrders"))
              .build();
        }
      }
    }
    return getListOrdersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetSagaRequest,
      io.datagw.v1.GetSagaResponse> getGetSagaMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetSaga",
      requestType = io.datagw.v1.GetSagaRequest.class,
      responseType = io.datagw.v1.GetSagaResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetSagaRequest,
      io.datagw.v1.GetSagaResponse> getGetSagaMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetSagaRequest, io.datagw.v1.GetSagaResponse> getGetSagaMethod;
    if ((getGetSagaMethod = AdminServiceGrpc.getGetSagaMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getGetSagaMethod = AdminServiceGrpc.getGetSagaMethod) == null) {
          AdminServiceGrpc.getGetSagaMethod = getGetSagaMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetSagaRequest, io.datagw.v1.GetSagaResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetSaga"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetSagaRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetSagaResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("GetSaga"))
              .build();
        }
      }
    }
    return getGetSagaMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ListStuckSagasRequest,
      io.datagw.v1.ListStuckSagasResponse> getListStuckSagasMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListStuckSagas",
      requestType = io.datagw.v1.ListStuckSagasRequest.class,
      responseType = io.datagw.v1.ListStuckSagasResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ListStuckSagasRequest,
      io.datagw.v1.ListStuckSagasResponse> getListStuckSagasMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ListStuckSagasRequest, io.datagw.v1.ListStuckSagasResponse> getListStuckSagasMethod;
    if ((getListStuckSagasMethod = AdminServiceGrpc.getListStuckSagasMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getListStuckSagasMethod = AdminServiceGrpc.getListStuckSagasMethod) == null) {
          AdminServiceGrpc.getListStuckSagasMethod = getListStuckSagasMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ListStuckSagasRequest, io.datagw.v1.ListStuckSagasResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListStuckSagas"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ListStuckSagasRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ListStuckSagasResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ListStuckSagas"))
              .build();
        }
      }
    }
    return getListStuckSagasMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ListProjectionsRequest,
      io.datagw.v1.ListProjectionsResponse> getListProjectionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListProjections",
      requestType = io.datagw.v1.ListProjectionsRequest.class,
      responseType = io.datagw.v1.ListProjectionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ListProjectionsRequest,
      io.datagw.v1.ListProjectionsResponse> getListProjectionsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ListProjectionsRequest, io.datagw.v1.ListProjectionsResponse> getListProjectionsMethod;
    if ((getListProjectionsMethod = AdminServiceGrpc.getListProjectionsMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getListProjectionsMethod = AdminServiceGrpc.getListProjectionsMethod) == null) {
          AdminServiceGrpc.getListProjectionsMethod = getListProjectionsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ListProjectionsRequest, io.datagw.v1.ListProjectionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListProjections"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ListProjectionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ListProjectionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ListProjections"))
              .build();
        }
      }
    }
    return getListProjectionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.RebuildProjectionRequest,
      io.datagw.v1.RebuildProjectionResponse> getRebuildProjectionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RebuildProjection",
      requestType = io.datagw.v1.RebuildProjectionRequest.class,
      responseType = io.datagw.v1.RebuildProjectionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.RebuildProjectionRequest,
      io.datagw.v1.RebuildProjectionResponse> getRebuildProjectionMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.RebuildProjectionRequest, io.datagw.v1.RebuildProjectionResponse> getRebuildProjectionMethod;
    if ((getRebuildProjectionMethod = AdminServiceGrpc.getRebuildProjectionMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getRebuildProjectionMethod = AdminServiceGrpc.getRebuildProjectionMethod) == null) {
          AdminServiceGrpc.getRebuildProjectionMethod = getRebuildProjectionMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.RebuildProjectionRequest, io.datagw.v1.RebuildProjectionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RebuildProjection"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.RebuildProjectionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.RebuildProjectionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("RebuildProjection"))
              .build();
        }
      }
    }
    return getRebuildProjectionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetRelayStatusRequest,
      io.datagw.v1.GetRelayStatusResponse> getGetRelayStatusMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetRelayStatus",
      requestType = io.datagw.v1.GetRelayStatusRequest.class,
      responseType = io.datagw.v1.GetRelayStatusResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetRelayStatusRequest,
      io.datagw.v1.GetRelayStatusResponse> getGetRelayStatusMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetRelayStatusRequest, io.datagw.v1.GetRelayStatusResponse> getGetRelayStatusMethod;
    if ((getGetRelayStatusMethod = AdminServiceGrpc.getGetRelayStatusMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getGetRelayStatusMethod = AdminServiceGrpc.getGetRelayStatusMethod) == null) {
          AdminServiceGrpc.getGetRelayStatusMethod = getGetRelayStatusMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetRelayStatusRequest, io.datagw.v1.GetRelayStatusResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetRelayStatus"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetRelayStatusRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetRelayStatusResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("GetRelayStatus"))
              .build();
        }
      }
    }
    return getGetRelayStatusMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ExplainCallRequest,
      io.datagw.v1.ExplainCallResponse> getExplainCallMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ExplainCall",
      requestType = io.datagw.v1.ExplainCallRequest.class,
      responseType = io.datagw.v1.ExplainCallResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ExplainCallRequest,
      io.datagw.v1.ExplainCallResponse> getExplainCallMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ExplainCallRequest, io.datagw.v1.ExplainCallResponse> getExplainCallMethod;
    if ((getExplainCallMethod = AdminServiceGrpc.getExplainCallMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getExplainCallMethod = AdminServiceGrpc.getExplainCallMethod) == null) {
          AdminServiceGrpc.getExplainCallMethod = getExplainCallMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ExplainCallRequest, io.datagw.v1.ExplainCallResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ExplainCall"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ExplainCallRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ExplainCallResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ExplainCall"))
              .build();
        }
      }
    }
    return getExplainCallMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.CreateReshardWorkflowRequest,
      io.datagw.v1.CreateReshardWorkflowResponse> getCreateReshardWorkflowMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateReshardWorkflow",
      requestType = io.datagw.v1.CreateReshardWorkflowRequest.class,
      responseType = io.datagw.v1.CreateReshardWorkflowResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.CreateReshardWorkflowRequest,
      io.datagw.v1.CreateReshardWorkflowResponse> getCreateReshardWorkflowMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.CreateReshardWorkflowRequest, io.datagw.v1.CreateReshardWorkflowResponse> getCreateReshardWorkflowMethod;
    if ((getCreateReshardWorkflowMethod = AdminServiceGrpc.getCreateReshardWorkflowMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getCreateReshardWorkflowMethod = AdminServiceGrpc.getCreateReshardWorkflowMethod) == null) {
          AdminServiceGrpc.getCreateReshardWorkflowMethod = getCreateReshardWorkflowMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.CreateReshardWorkflowRequest, io.datagw.v1.CreateReshardWorkflowResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateReshardWorkflow"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.CreateReshardWorkflowRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.CreateReshardWorkflowResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("CreateReshardWorkflow"))
              .build();
        }
      }
    }
    return getCreateReshardWorkflowMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.GetReshardWorkflowRequest,
      io.datagw.v1.GetReshardWorkflowResponse> getGetReshardWorkflowMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetReshardWorkflow",
      requestType = io.datagw.v1.GetReshardWorkflowRequest.class,
      responseType = io.datagw.v1.GetReshardWorkflowResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.GetReshardWorkflowRequest,
      io.datagw.v1.GetReshardWorkflowResponse> getGetReshardWorkflowMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.GetReshardWorkflowRequest, io.datagw.v1.GetReshardWorkflowResponse> getGetReshardWorkflowMethod;
    if ((getGetReshardWorkflowMethod = AdminServiceGrpc.getGetReshardWorkflowMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getGetReshardWorkflowMethod = AdminServiceGrpc.getGetReshardWorkflowMethod) == null) {
          AdminServiceGrpc.getGetReshardWorkflowMethod = getGetReshardWorkflowMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.GetReshardWorkflowRequest, io.datagw.v1.GetReshardWorkflowResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetReshardWorkflow"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetReshardWorkflowRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.GetReshardWorkflowResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("GetReshardWorkflow"))
              .build();
        }
      }
    }
    return getGetReshardWorkflowMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ListReshardWorkflowsRequest,
      io.datagw.v1.ListReshardWorkflowsResponse> getListReshardWorkflowsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListReshardWorkflows",
      requestType = io.datagw.v1.ListReshardWorkflowsRequest.class,
      responseType = io.datagw.v1.ListReshardWorkflowsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ListReshardWorkflowsRequest,
      io.datagw.v1.ListReshardWorkflowsResponse> getListReshardWorkflowsMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ListReshardWorkflowsRequest, io.datagw.v1.ListReshardWorkflowsResponse> getListReshardWorkflowsMethod;
    if ((getListReshardWorkflowsMethod = AdminServiceGrpc.getListReshardWorkflowsMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getListReshardWorkflowsMethod = AdminServiceGrpc.getListReshardWorkflowsMethod) == null) {
          AdminServiceGrpc.getListReshardWorkflowsMethod = getListReshardWorkflowsMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ListReshardWorkflowsRequest, io.datagw.v1.ListReshardWorkflowsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListReshardWorkflows"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ListReshardWorkflowsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ListReshardWorkflowsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ListReshardWorkflows"))
              .build();
        }
      }
    }
    return getListReshardWorkflowsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.ReshardWorkflowActionRequest,
      io.datagw.v1.ReshardWorkflowActionResponse> getReshardWorkflowActionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ReshardWorkflowAction",
      requestType = io.datagw.v1.ReshardWorkflowActionRequest.class,
      responseType = io.datagw.v1.ReshardWorkflowActionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.ReshardWorkflowActionRequest,
      io.datagw.v1.ReshardWorkflowActionResponse> getReshardWorkflowActionMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.ReshardWorkflowActionRequest, io.datagw.v1.ReshardWorkflowActionResponse> getReshardWorkflowActionMethod;
    if ((getReshardWorkflowActionMethod = AdminServiceGrpc.getReshardWorkflowActionMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getReshardWorkflowActionMethod = AdminServiceGrpc.getReshardWorkflowActionMethod) == null) {
          AdminServiceGrpc.getReshardWorkflowActionMethod = getReshardWorkflowActionMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.ReshardWorkflowActionRequest, io.datagw.v1.ReshardWorkflowActionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ReshardWorkflowAction"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReshardWorkflowActionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.ReshardWorkflowActionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ReshardWorkflowAction"))
              .build();
        }
      }
    }
    return getReshardWorkflowActionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.AddShardServerRequest,
      io.datagw.v1.AddShardServerResponse> getAddShardServerMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AddShardServer",
      requestType = io.datagw.v1.AddShardServerRequest.class,
      responseType = io.datagw.v1.AddShardServerResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.AddShardServerRequest,
      io.datagw.v1.AddShardServerResponse> getAddShardServerMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.AddShardServerRequest, io.datagw.v1.AddShardServerResponse> getAddShardServerMethod;
    if ((getAddShardServerMethod = AdminServiceGrpc.getAddShardServerMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getAddShardServerMethod = AdminServiceGrpc.getAddShardServerMethod) == null) {
          AdminServiceGrpc.getAddShardServerMethod = getAddShardServerMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.AddShardServerRequest, io.datagw.v1.AddShardServerResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AddShardServer"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.AddShardServerRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.AddShardServerResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("AddShardServer"))
              .build();
        }
      }
    }
    return getAddShardServerMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.datagw.v1.VerifyStoresRequest,
      io.datagw.v1.VerifyStoresResponse> getVerifyStoresMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "VerifyStores",
      requestType = io.datagw.v1.VerifyStoresRequest.class,
      responseType = io.datagw.v1.VerifyStoresResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.datagw.v1.VerifyStoresRequest,
      io.datagw.v1.VerifyStoresResponse> getVerifyStoresMethod() {
    io.grpc.MethodDescriptor<io.datagw.v1.VerifyStoresRequest, io.datagw.v1.VerifyStoresResponse> getVerifyStoresMethod;
    if ((getVerifyStoresMethod = AdminServiceGrpc.getVerifyStoresMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getVerifyStoresMethod = AdminServiceGrpc.getVerifyStoresMethod) == null) {
          AdminServiceGrpc.getVerifyStoresMethod = getVerifyStoresMethod =
              io.grpc.MethodDescriptor.<io.datagw.v1.VerifyStoresRequest, io.datagw.v1.VerifyStoresResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "VerifyStores"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.VerifyStoresRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.datagw.v1.VerifyStoresResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("VerifyStores"))
              .build();
        }
      }
    }
    return getVerifyStoresMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static AdminServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceStub>() {
        @java.lang.Override
        public AdminServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceStub(channel, callOptions);
        }
      };
    return AdminServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static AdminServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingV2Stub>() {
        @java.lang.Override
        public AdminServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return AdminServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static AdminServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingStub>() {
        @java.lang.Override
        public AdminServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceBlockingStub(channel, callOptions);
        }
      };
    return AdminServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static AdminServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceFutureStub>() {
        @java.lang.Override
        public AdminServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceFutureStub(channel, callOptions);
        }
      };
    return AdminServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Operator's view of the gateway: topology, policies, cache.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * The backends, their health and their pools.
     * </pre>
     */
    default void getTopology(io.datagw.v1.GetTopologyRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetTopologyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetTopologyMethod(), responseObserver);
    }

    /**
     * <pre>
     * The policies in force.
     * </pre>
     */
    default void getPolicies(io.datagw.v1.GetPoliciesRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetPoliciesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetPoliciesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Re-reads the policy directory. A directory that does not validate is
     * FAILED_PRECONDITION with every problem in the details, and the policies
     * in force stay as they were.
     * </pre>
     */
    default void reloadPolicies(io.datagw.v1.ReloadPoliciesRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReloadPoliciesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getReloadPoliciesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a domain's cache entries.
     * </pre>
     */
    default void flushCache(io.datagw.v1.FlushCacheRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.FlushCacheResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getFlushCacheMethod(), responseObserver);
    }

    /**
     * <pre>
     * Orders of every user by status and time range: fanned out to all shards
     * in parallel and merged newest first, with a global keyset cursor.
     * FAILED_PRECONDITION/SCATTER_FORBIDDEN when the orders policy forbids it.
     * </pre>
     */
    default void listOrders(io.datagw.v1.AdminServiceListOrdersRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.AdminServiceListOrdersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListOrdersMethod(), responseObserver);
    }

    /**
     * <pre>
     * One saga and its step log.
     * </pre>
     */
    default void getSaga(io.datagw.v1.GetSagaRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetSagaResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetSagaMethod(), responseObserver);
    }

    /**
     * <pre>
     * Sagas not finished after `older_than` (still running or compensating).
     * </pre>
     */
    default void listStuckSagas(io.datagw.v1.ListStuckSagasRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ListStuckSagasResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListStuckSagasMethod(), responseObserver);
    }

    /**
     * <pre>
     * The projections (read models), where each stands and how far behind.
     * </pre>
     */
    default void listProjections(io.datagw.v1.ListProjectionsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ListProjectionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListProjectionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Rebuilds a projection from the first event into a fresh table, then
     * swaps it in; readers keep reading the old table until the swap.
     * </pre>
     */
    default void rebuildProjection(io.datagw.v1.RebuildProjectionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.RebuildProjectionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRebuildProjectionMethod(), responseObserver);
    }

    /**
     * <pre>
     * The relay to ClickHouse: each shard's checkpoint, lag and last error.
     * </pre>
     */
    default void getRelayStatus(io.datagw.v1.GetRelayStatusRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetRelayStatusResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetRelayStatusMethod(), responseObserver);
    }

    /**
     * <pre>
     * The plan a read would get, without running it: the consistency level,
     * whether the cache may answer, the shard or shards, and which node would
     * serve each right now (primary or a replica, with the reason). Takes any
     * read whose request carries ReadOptions (and AdminService.ListOrders).
     * INVALID_ARGUMENT for a method that is not such a read, a request of
     * another type, or a request the read itself would refuse.
     * </pre>
     */
    default void explainCall(io.datagw.v1.ExplainCallRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ExplainCallResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getExplainCallMethod(), responseObserver);
    }

    /**
     * <pre>
     * Starts moving one range of keyspace ids of a sharded keyspace to another
     * shard, online (docs/resharding.md): the source is the shard serving the
     * range now. The workflow copies the range, then keeps the target caught up
     * until ReshardWorkflowAction asks for the switch. INVALID_ARGUMENT for an
     * unknown keyspace, a malformed range or a shard out of range;
     * FAILED_PRECONDITION when the range spans shards (RANGE_SPANS_SHARDS), is
     * on the target already (RANGE_ALREADY_THERE), or the keyspace has an
     * unfinished workflow (WORKFLOW_ACTIVE).
     * </pre>
     */
    default void createReshardWorkflow(io.datagw.v1.CreateReshardWorkflowRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.CreateReshardWorkflowResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateReshardWorkflowMethod(), responseObserver);
    }

    /**
     * <pre>
     * One resharding workflow, where it stands. NOT_FOUND for an unknown name.
     * </pre>
     */
    default void getReshardWorkflow(io.datagw.v1.GetReshardWorkflowRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetReshardWorkflowResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetReshardWorkflowMethod(), responseObserver);
    }

    /**
     * <pre>
     * Resharding workflows, newest first (the latest 100).
     * </pre>
     */
    default void listReshardWorkflows(io.datagw.v1.ListReshardWorkflowsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ListReshardWorkflowsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListReshardWorkflowsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Asks a workflow to verify, switch, reverse, clean up or cancel; the
     * workflow carries it out in the background (poll GetReshardWorkflow).
     * FAILED_PRECONDITION/WRONG_PHASE when the workflow's phase does not allow
     * the action.
     * </pre>
     */
    default void reshardWorkflowAction(io.datagw.v1.ReshardWorkflowActionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReshardWorkflowActionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getReshardWorkflowActionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Embedded mode: starts one more shard server for a sharded keyspace while
     * the gateway serves; it is a spare (serves nothing) until a workflow moves
     * a range onto it. FAILED_PRECONDITION/NOT_EMBEDDED with configured
     * servers: list the new server in the config and restart instead.
     * </pre>
     */
    default void addShardServer(io.datagw.v1.AddShardServerRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.AddShardServerResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAddShardServerMethod(), responseObserver);
    }

    /**
     * <pre>
     * A cross-store consistency report (docs/operations.md, "Verifying the
     * stores"): the events against ClickHouse, the projections against a
     * recomputation, stock against reservations, events and sagas, tables
     * past their retention, the shards' ranges against the range map. Reads
     * only. Sampled by default; `exhaustive` compares everything.
     * INVALID_ARGUMENT for an unknown check or a sample outside (0, 1].
     * </pre>
     */
    default void verifyStores(io.datagw.v1.VerifyStoresRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.VerifyStoresResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getVerifyStoresMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service AdminService.
   * <pre>
   * Operator's view of the gateway: topology, policies, cache.
   * </pre>
   */
  public static abstract class AdminServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return AdminServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service AdminService.
   * <pre>
   * Operator's view of the gateway: topology, policies, cache.
   * </pre>
   */
  public static final class AdminServiceStub
      extends io.grpc.stub.AbstractAsyncStub<AdminServiceStub> {
    private AdminServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * The backends, their health and their pools.
     * </pre>
     */
    public void getTopology(io.datagw.v1.GetTopologyRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetTopologyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetTopologyMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The policies in force.
     * </pre>
     */
    public void getPolicies(io.datagw.v1.GetPoliciesRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetPoliciesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetPoliciesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Re-reads the policy directory. A directory that does not validate is
     * FAILED_PRECONDITION with every problem in the details, and the policies
     * in force stay as they were.
     * </pre>
     */
    public void reloadPolicies(io.datagw.v1.ReloadPoliciesRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReloadPoliciesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getReloadPoliciesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a domain's cache entries.
     * </pre>
     */
    public void flushCache(io.datagw.v1.FlushCacheRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.FlushCacheResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getFlushCacheMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Orders of every user by status and time range: fanned out to all shards
     * in parallel and merged newest first, with a global keyset cursor.
     * FAILED_PRECONDITION/SCATTER_FORBIDDEN when the orders policy forbids it.
     * </pre>
     */
    public void listOrders(io.datagw.v1.AdminServiceListOrdersRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.AdminServiceListOrdersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListOrdersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * One saga and its step log.
     * </pre>
     */
    public void getSaga(io.datagw.v1.GetSagaRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetSagaResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetSagaMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Sagas not finished after `older_than` (still running or compensating).
     * </pre>
     */
    public void listStuckSagas(io.datagw.v1.ListStuckSagasRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ListStuckSagasResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListStuckSagasMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The projections (read models), where each stands and how far behind.
     * </pre>
     */
    public void listProjections(io.datagw.v1.ListProjectionsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ListProjectionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListProjectionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Rebuilds a projection from the first event into a fresh table, then
     * swaps it in; readers keep reading the old table until the swap.
     * </pre>
     */
    public void rebuildProjection(io.datagw.v1.RebuildProjectionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.RebuildProjectionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRebuildProjectionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The relay to ClickHouse: each shard's checkpoint, lag and last error.
     * </pre>
     */
    public void getRelayStatus(io.datagw.v1.GetRelayStatusRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetRelayStatusResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetRelayStatusMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The plan a read would get, without running it: the consistency level,
     * whether the cache may answer, the shard or shards, and which node would
     * serve each right now (primary or a replica, with the reason). Takes any
     * read whose request carries ReadOptions (and AdminService.ListOrders).
     * INVALID_ARGUMENT for a method that is not such a read, a request of
     * another type, or a request the read itself would refuse.
     * </pre>
     */
    public void explainCall(io.datagw.v1.ExplainCallRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ExplainCallResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getExplainCallMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Starts moving one range of keyspace ids of a sharded keyspace to another
     * shard, online (docs/resharding.md): the source is the shard serving the
     * range now. The workflow copies the range, then keeps the target caught up
     * until ReshardWorkflowAction asks for the switch. INVALID_ARGUMENT for an
     * unknown keyspace, a malformed range or a shard out of range;
     * FAILED_PRECONDITION when the range spans shards (RANGE_SPANS_SHARDS), is
     * on the target already (RANGE_ALREADY_THERE), or the keyspace has an
     * unfinished workflow (WORKFLOW_ACTIVE).
     * </pre>
     */
    public void createReshardWorkflow(io.datagw.v1.CreateReshardWorkflowRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.CreateReshardWorkflowResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateReshardWorkflowMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * One resharding workflow, where it stands. NOT_FOUND for an unknown name.
     * </pre>
     */
    public void getReshardWorkflow(io.datagw.v1.GetReshardWorkflowRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.GetReshardWorkflowResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetReshardWorkflowMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Resharding workflows, newest first (the latest 100).
     * </pre>
     */
    public void listReshardWorkflows(io.datagw.v1.ListReshardWorkflowsRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ListReshardWorkflowsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListReshardWorkflowsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Asks a workflow to verify, switch, reverse, clean up or cancel; the
     * workflow carries it out in the background (poll GetReshardWorkflow).
     * FAILED_PRECONDITION/WRONG_PHASE when the workflow's phase does not allow
     * the action.
     * </pre>
     */
    public void reshardWorkflowAction(io.datagw.v1.ReshardWorkflowActionRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.ReshardWorkflowActionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getReshardWorkflowActionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Embedded mode: starts one more shard server for a sharded keyspace while
     * the gateway serves; it is a spare (serves nothing) until a workflow moves
     * a range onto it. FAILED_PRECONDITION/NOT_EMBEDDED with configured
     * servers: list the new server in the config and restart instead.
     * </pre>
     */
    public void addShardServer(io.datagw.v1.AddShardServerRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.AddShardServerResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAddShardServerMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * A cross-store consistency report (docs/operations.md, "Verifying the
     * stores"): the events against ClickHouse, the projections against a
     * recomputation, stock against reservations, events and sagas, tables
     * past their retention, the shards' ranges against the range map. Reads
     * only. Sampled by default; `exhaustive` compares everything.
     * INVALID_ARGUMENT for an unknown check or a sample outside (0, 1].
     * </pre>
     */
    public void verifyStores(io.datagw.v1.VerifyStoresRequest request,
        io.grpc.stub.StreamObserver<io.datagw.v1.VerifyStoresResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getVerifyStoresMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service AdminService.
   * <pre>
   * Operator's view of the gateway: topology, policies, cache.
   * </pre>
   */
  public static final class AdminServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<AdminServiceBlockingV2Stub> {
    private AdminServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * The backends, their health and their pools.
     * </pre>
     */
    public io.datagw.v1.GetTopologyResponse getTopology(io.datagw.v1.GetTopologyRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetTopologyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The policies in force.
     * </pre>
     */
    public io.datagw.v1.GetPoliciesResponse getPolicies(io.datagw.v1.GetPoliciesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetPoliciesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Re-reads the policy directory. A directory that does not validate is
     * FAILED_PRECONDITION with every problem in the details, and the policies
     * in force stay as they were.
     * </pre>
     */
    public io.datagw.v1.ReloadPoliciesResponse reloadPolicies(io.datagw.v1.ReloadPoliciesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getReloadPoliciesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a domain's cache entries.
     * </pre>
     */
    public io.datagw.v1.FlushCacheResponse flushCache(io.datagw.v1.FlushCacheRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getFlushCacheMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Orders of every user by status and time range: fanned out to all shards
     * in parallel and merged newest first, with a global keyset cursor.
     * FAILED_PRECONDITION/SCATTER_FORBIDDEN when the orders policy forbids it.
     * </pre>
     */
    public io.datagw.v1.AdminServiceListOrdersResponse listOrders(io.datagw.v1.AdminServiceListOrdersRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListOrdersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * One saga and its step log.
     * </pre>
     */
    public io.datagw.v1.GetSagaResponse getSaga(io.datagw.v1.GetSagaRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetSagaMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sagas not finished after `older_than` (still running or compensating).
     * </pre>
     */
    public io.datagw.v1.ListStuckSagasResponse listStuckSagas(io.datagw.v1.ListStuckSagasRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListStuckSagasMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The projections (read models), where each stands and how far behind.
     * </pre>
     */
    public io.datagw.v1.ListProjectionsResponse listProjections(io.datagw.v1.ListProjectionsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListProjectionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Rebuilds a projection from the first event into a fresh table, then
     * swaps it in; readers keep reading the old table until the swap.
     * </pre>
     */
    public io.datagw.v1.RebuildProjectionResponse rebuildProjection(io.datagw.v1.RebuildProjectionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getRebuildProjectionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The relay to ClickHouse: each shard's checkpoint, lag and last error.
     * </pre>
     */
    public io.datagw.v1.GetRelayStatusResponse getRelayStatus(io.datagw.v1.GetRelayStatusRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetRelayStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The plan a read would get, without running it: the consistency level,
     * whether the cache may answer, the shard or shards, and which node would
     * serve each right now (primary or a replica, with the reason). Takes any
     * read whose request carries ReadOptions (and AdminService.ListOrders).
     * INVALID_ARGUMENT for a method that is not such a read, a request of
     * another type, or a request the read itself would refuse.
     * </pre>
     */
    public io.datagw.v1.ExplainCallResponse explainCall(io.datagw.v1.ExplainCallRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getExplainCallMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Starts moving one range of keyspace ids of a sharded keyspace to another
     * shard, online (docs/resharding.md): the source is the shard serving the
     * range now. The workflow copies the range, then keeps the target caught up
     * until ReshardWorkflowAction asks for the switch. INVALID_ARGUMENT for an
     * unknown keyspace, a malformed range or a shard out of range;
     * FAILED_PRECONDITION when the range spans shards (RANGE_SPANS_SHARDS), is
     * on the target already (RANGE_ALREADY_THERE), or the keyspace has an
     * unfinished workflow (WORKFLOW_ACTIVE).
     * </pre>
     */
    public io.datagw.v1.CreateReshardWorkflowResponse createReshardWorkflow(io.datagw.v1.CreateReshardWorkflowRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateReshardWorkflowMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * One resharding workflow, where it stands. NOT_FOUND for an unknown name.
     * </pre>
     */
    public io.datagw.v1.GetReshardWorkflowResponse getReshardWorkflow(io.datagw.v1.GetReshardWorkflowRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetReshardWorkflowMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Resharding workflows, newest first (the latest 100).
     * </pre>
     */
    public io.datagw.v1.ListReshardWorkflowsResponse listReshardWorkflows(io.datagw.v1.ListReshardWorkflowsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListReshardWorkflowsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Asks a workflow to verify, switch, reverse, clean up or cancel; the
     * workflow carries it out in the background (poll GetReshardWorkflow).
     * FAILED_PRECONDITION/WRONG_PHASE when the workflow's phase does not allow
     * the action.
     * </pre>
     */
    public io.datagw.v1.ReshardWorkflowActionResponse reshardWorkflowAction(io.datagw.v1.ReshardWorkflowActionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getReshardWorkflowActionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Embedded mode: starts one more shard server for a sharded keyspace while
     * the gateway serves; it is a spare (serves nothing) until a workflow moves
     * a range onto it. FAILED_PRECONDITION/NOT_EMBEDDED with configured
     * servers: list the new server in the config and restart instead.
     * </pre>
     */
    public io.datagw.v1.AddShardServerResponse addShardServer(io.datagw.v1.AddShardServerRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAddShardServerMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * A cross-store consistency report (docs/operations.md, "Verifying the
     * stores"): the events against ClickHouse, the projections against a
     * recomputation, stock against reservations, events and sagas, tables
     * past their retention, the shards' ranges against the range map. Reads
     * only. Sampled by default; `exhaustive` compares everything.
     * INVALID_ARGUMENT for an unknown check or a sample outside (0, 1].
     * </pre>
     */
    public io.datagw.v1.VerifyStoresResponse verifyStores(io.datagw.v1.VerifyStoresRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getVerifyStoresMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service AdminService.
   * <pre>
   * Operator's view of the gateway: topology, policies, cache.
   * </pre>
   */
  public static final class AdminServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<AdminServiceBlockingStub> {
    private AdminServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * The backends, their health and their pools.
     * </pre>
     */
    public io.datagw.v1.GetTopologyResponse getTopology(io.datagw.v1.GetTopologyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetTopologyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The policies in force.
     * </pre>
     */
    public io.datagw.v1.GetPoliciesResponse getPolicies(io.datagw.v1.GetPoliciesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetPoliciesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Re-reads the policy directory. A directory that does not validate is
     * FAILED_PRECONDITION with every problem in the details, and the policies
     * in force stay as they were.
     * </pre>
     */
    public io.datagw.v1.ReloadPoliciesResponse reloadPolicies(io.datagw.v1.ReloadPoliciesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getReloadPoliciesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a domain's cache entries.
     * </pre>
     */
    public io.datagw.v1.FlushCacheResponse flushCache(io.datagw.v1.FlushCacheRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getFlushCacheMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Orders of every user by status and time range: fanned out to all shards
     * in parallel and merged newest first, with a global keyset cursor.
     * FAILED_PRECONDITION/SCATTER_FORBIDDEN when the orders policy forbids it.
     * </pre>
     */
    public io.datagw.v1.AdminServiceListOrdersResponse listOrders(io.datagw.v1.AdminServiceListOrdersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListOrdersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * One saga and its step log.
     * </pre>
     */
    public io.datagw.v1.GetSagaResponse getSaga(io.datagw.v1.GetSagaRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetSagaMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sagas not finished after `older_than` (still running or compensating).
     * </pre>
     */
    public io.datagw.v1.ListStuckSagasResponse listStuckSagas(io.datagw.v1.ListStuckSagasRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListStuckSagasMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The projections (read models), where each stands and how far behind.
     * </pre>
     */
    public io.datagw.v1.ListProjectionsResponse listProjections(io.datagw.v1.ListProjectionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListProjectionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Rebuilds a projection from the first event into a fresh table, then
     * swaps it in; readers keep reading the old table until the swap.
     * </pre>
     */
    public io.datagw.v1.RebuildProjectionResponse rebuildProjection(io.datagw.v1.RebuildProjectionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRebuildProjectionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The relay to ClickHouse: each shard's checkpoint, lag and last error.
     * </pre>
     */
    public io.datagw.v1.GetRelayStatusResponse getRelayStatus(io.datagw.v1.GetRelayStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetRelayStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The plan a read would get, without running it: the consistency level,
     * whether the cache may answer, the shard or shards, and which node would
     * serve each right now (primary or a replica, with the reason). Takes any
     * read whose request carries ReadOptions (and AdminService.ListOrders).
     * INVALID_ARGUMENT for a method that is not such a read, a request of
     * another type, or a request the read itself would refuse.
     * </pre>
     */
    public io.datagw.v1.ExplainCallResponse explainCall(io.datagw.v1.ExplainCallRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getExplainCallMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Starts moving one range of keyspace ids of a sharded keyspace to another
     * shard, online (docs/resharding.md): the source is the shard serving the
     * range now. The workflow copies the range, then keeps the target caught up
     * until ReshardWorkflowAction asks for the switch. INVALID_ARGUMENT for an
     * unknown keyspace, a malformed range or a shard out of range;
     * FAILED_PRECONDITION when the range spans shards (RANGE_SPANS_SHARDS), is
     * on the target already (RANGE_ALREADY_THERE), or the keyspace has an
     * unfinished workflow (WORKFLOW_ACTIVE).
     * </pre>
     */
    public io.datagw.v1.CreateReshardWorkflowResponse createReshardWorkflow(io.datagw.v1.CreateReshardWorkflowRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateReshardWorkflowMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * One resharding workflow, where it stands. NOT_FOUND for an unknown name.
     * </pre>
     */
    public io.datagw.v1.GetReshardWorkflowResponse getReshardWorkflow(io.datagw.v1.GetReshardWorkflowRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetReshardWorkflowMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Resharding workflows, newest first (the latest 100).
     * </pre>
     */
    public io.datagw.v1.ListReshardWorkflowsResponse listReshardWorkflows(io.datagw.v1.ListReshardWorkflowsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListReshardWorkflowsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Asks a workflow to verify, switch, reverse, clean up or cancel; the
     * workflow carries it out in the background (poll GetReshardWorkflow).
     * FAILED_PRECONDITION/WRONG_PHASE when the workflow's phase does not allow
     * the action.
     * </pre>
     */
    public io.datagw.v1.ReshardWorkflowActionResponse reshardWorkflowAction(io.datagw.v1.ReshardWorkflowActionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getReshardWorkflowActionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Embedded mode: starts one more shard server for a sharded keyspace while
     * the gateway serves; it is a spare (serves nothing) until a workflow moves
     * a range onto it. FAILED_PRECONDITION/NOT_EMBEDDED with configured
     * servers: list the new server in the config and restart instead.
     * </pre>
     */
    public io.datagw.v1.AddShardServerResponse addShardServer(io.datagw.v1.AddShardServerRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAddShardServerMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * A cross-store consistency report (docs/operations.md, "Verifying the
     * stores"): the events against ClickHouse, the projections against a
     * recomputation, stock against reservations, events and sagas, tables
     * past their retention, the shards' ranges against the range map. Reads
     * only. Sampled by default; `exhaustive` compares everything.
     * INVALID_ARGUMENT for an unknown check or a sample outside (0, 1].
     * </pre>
     */
    public io.datagw.v1.VerifyStoresResponse verifyStores(io.datagw.v1.VerifyStoresRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getVerifyStoresMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service AdminService.
   * <pre>
   * Operator's view of the gateway: topology, policies, cache.
   * </pre>
   */
  public static final class AdminServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<AdminServiceFutureStub> {
    private AdminServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * The backends, their health and their pools.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetTopologyResponse> getTopology(
        io.datagw.v1.GetTopologyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetTopologyMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The policies in force.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetPoliciesResponse> getPolicies(
        io.datagw.v1.GetPoliciesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetPoliciesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Re-reads the policy directory. A directory that does not validate is
     * FAILED_PRECONDITION with every problem in the details, and the policies
     * in force stay as they were.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ReloadPoliciesResponse> reloadPolicies(
        io.datagw.v1.ReloadPoliciesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getReloadPoliciesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a domain's cache entries.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.FlushCacheResponse> flushCache(
        io.datagw.v1.FlushCacheRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getFlushCacheMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Orders of every user by status and time range: fanned out to all shards
     * in parallel and merged newest first, with a global keyset cursor.
     * FAILED_PRECONDITION/SCATTER_FORBIDDEN when the orders policy forbids it.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.AdminServiceListOrdersResponse> listOrders(
        io.datagw.v1.AdminServiceListOrdersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListOrdersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * One saga and its step log.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetSagaResponse> getSaga(
        io.datagw.v1.GetSagaRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetSagaMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Sagas not finished after `older_than` (still running or compensating).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ListStuckSagasResponse> listStuckSagas(
        io.datagw.v1.ListStuckSagasRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListStuckSagasMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The projections (read models), where each stands and how far behind.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ListProjectionsResponse> listProjections(
        io.datagw.v1.ListProjectionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListProjectionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Rebuilds a projection from the first event into a fresh table, then
     * swaps it in; readers keep reading the old table until the swap.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.RebuildProjectionResponse> rebuildProjection(
        io.datagw.v1.RebuildProjectionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRebuildProjectionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The relay to ClickHouse: each shard's checkpoint, lag and last error.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetRelayStatusResponse> getRelayStatus(
        io.datagw.v1.GetRelayStatusRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetRelayStatusMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The plan a read would get, without running it: the consistency level,
     * whether the cache may answer, the shard or shards, and which node would
     * serve each right now (primary or a replica, with the reason). Takes any
     * read whose request carries ReadOptions (and AdminService.ListOrders).
     * INVALID_ARGUMENT for a method that is not such a read, a request of
     * another type, or a request the read itself would refuse.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ExplainCallResponse> explainCall(
        io.datagw.v1.ExplainCallRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getExplainCallMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Starts moving one range of keyspace ids of a sharded keyspace to another
     * shard, online (docs/resharding.md): the source is the shard serving the
     * range now. The workflow copies the range, then keeps the target caught up
     * until ReshardWorkflowAction asks for the switch. INVALID_ARGUMENT for an
     * unknown keyspace, a malformed range or a shard out of range;
     * FAILED_PRECONDITION when the range spans shards (RANGE_SPANS_SHARDS), is
     * on the target already (RANGE_ALREADY_THERE), or the keyspace has an
     * unfinished workflow (WORKFLOW_ACTIVE).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.CreateReshardWorkflowResponse> createReshardWorkflow(
        io.datagw.v1.CreateReshardWorkflowRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateReshardWorkflowMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * One resharding workflow, where it stands. NOT_FOUND for an unknown name.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.GetReshardWorkflowResponse> getReshardWorkflow(
        io.datagw.v1.GetReshardWorkflowRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetReshardWorkflowMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Resharding workflows, newest first (the latest 100).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ListReshardWorkflowsResponse> listReshardWorkflows(
        io.datagw.v1.ListReshardWorkflowsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListReshardWorkflowsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Asks a workflow to verify, switch, reverse, clean up or cancel; the
     * workflow carries it out in the background (poll GetReshardWorkflow).
     * FAILED_PRECONDITION/WRONG_PHASE when the workflow's phase does not allow
     * the action.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.ReshardWorkflowActionResponse> reshardWorkflowAction(
        io.datagw.v1.ReshardWorkflowActionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getReshardWorkflowActionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Embedded mode: starts one more shard server for a sharded keyspace while
     * the gateway serves; it is a spare (serves nothing) until a workflow moves
     * a range onto it. FAILED_PRECONDITION/NOT_EMBEDDED with configured
     * servers: list the new server in the config and restart instead.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.AddShardServerResponse> addShardServer(
        io.datagw.v1.AddShardServerRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAddShardServerMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * A cross-store consistency report (docs/operations.md, "Verifying the
     * stores"): the events against ClickHouse, the projections against a
     * recomputation, stock against reservations, events and sagas, tables
     * past their retention, the shards' ranges against the range map. Reads
     * only. Sampled by default; `exhaustive` compares everything.
     * INVALID_ARGUMENT for an unknown check or a sample outside (0, 1].
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.datagw.v1.VerifyStoresResponse> verifyStores(
        io.datagw.v1.VerifyStoresRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getVerifyStoresMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_TOPOLOGY = 0;
  private static final int METHODID_GET_POLICIES = 1;
  private static final int METHODID_RELOAD_POLICIES = 2;
  private static final int METHODID_FLUSH_CACHE = 3;
  private static final int METHODID_LIST_ORDERS = 4;
  private static final int METHODID_GET_SAGA = 5;
  private static final int METHODID_LIST_STUCK_SAGAS = 6;
  private static final int METHODID_LIST_PROJECTIONS = 7;
  private static final int METHODID_REBUILD_PROJECTION = 8;
  private static final int METHODID_GET_RELAY_STATUS = 9;
  private static final int METHODID_EXPLAIN_CALL = 10;
  private static final int METHODID_CREATE_RESHARD_WORKFLOW = 11;
  private static final int METHODID_GET_RESHARD_WORKFLOW = 12;
  private static final int METHODID_LIST_RESHARD_WORKFLOWS = 13;
  private static final int METHODID_RESHARD_WORKFLOW_ACTION = 14;
  private static final int METHODID_ADD_SHARD_SERVER = 15;
  private static final int METHODID_VERIFY_STORES = 16;

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
        case METHODID_GET_TOPOLOGY:
          serviceImpl.getTopology((io.datagw.v1.GetTopologyRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetTopologyResponse>) responseObserver);
          break;
        case METHODID_GET_POLICIES:
          serviceImpl.getPolicies((io.datagw.v1.GetPoliciesRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetPoliciesResponse>) responseObserver);
          break;
        case METHODID_RELOAD_POLICIES:
          serviceImpl.reloadPolicies((io.datagw.v1.ReloadPoliciesRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ReloadPoliciesResponse>) responseObserver);
          break;
        case METHODID_FLUSH_CACHE:
          serviceImpl.flushCache((io.datagw.v1.FlushCacheRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.FlushCacheResponse>) responseObserver);
          break;
        case METHODID_LIST_ORDERS:
          serviceImpl.listOrders((io.datagw.v1.AdminServiceListOrdersRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.AdminServiceListOrdersResponse>) responseObserver);
          break;
        case METHODID_GET_SAGA:
          serviceImpl.getSaga((io.datagw.v1.GetSagaRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetSagaResponse>) responseObserver);
          break;
        case METHODID_LIST_STUCK_SAGAS:
          serviceImpl.listStuckSagas((io.datagw.v1.ListStuckSagasRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ListStuckSagasResponse>) responseObserver);
          break;
        case METHODID_LIST_PROJECTIONS:
          serviceImpl.listProjections((io.datagw.v1.ListProjectionsRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ListProjectionsResponse>) responseObserver);
          break;
        case METHODID_REBUILD_PROJECTION:
          serviceImpl.rebuildProjection((io.datagw.v1.RebuildProjectionRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.RebuildProjectionResponse>) responseObserver);
          break;
        case METHODID_GET_RELAY_STATUS:
          serviceImpl.getRelayStatus((io.datagw.v1.GetRelayStatusRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetRelayStatusResponse>) responseObserver);
          break;
        case METHODID_EXPLAIN_CALL:
          serviceImpl.explainCall((io.datagw.v1.ExplainCallRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ExplainCallResponse>) responseObserver);
          break;
        case METHODID_CREATE_RESHARD_WORKFLOW:
          serviceImpl.createReshardWorkflow((io.datagw.v1.CreateReshardWorkflowRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.CreateReshardWorkflowResponse>) responseObserver);
          break;
        case METHODID_GET_RESHARD_WORKFLOW:
          serviceImpl.getReshardWorkflow((io.datagw.v1.GetReshardWorkflowRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.GetReshardWorkflowResponse>) responseObserver);
          break;
        case METHODID_LIST_RESHARD_WORKFLOWS:
          serviceImpl.listReshardWorkflows((io.datagw.v1.ListReshardWorkflowsRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ListReshardWorkflowsResponse>) responseObserver);
          break;
        case METHODID_RESHARD_WORKFLOW_ACTION:
          serviceImpl.reshardWorkflowAction((io.datagw.v1.ReshardWorkflowActionRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.ReshardWorkflowActionResponse>) responseObserver);
          break;
        case METHODID_ADD_SHARD_SERVER:
          serviceImpl.addShardServer((io.datagw.v1.AddShardServerRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.AddShardServerResponse>) responseObserver);
          break;
        case METHODID_VERIFY_STORES:
          serviceImpl.verifyStores((io.datagw.v1.VerifyStoresRequest) request,
              (io.grpc.stub.StreamObserver<io.datagw.v1.VerifyStoresResponse>) responseObserver);
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
          getGetTopologyMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetTopologyRequest,
              io.datagw.v1.GetTopologyResponse>(
                service, METHODID_GET_TOPOLOGY)))
        .addMethod(
          getGetPoliciesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetPoliciesRequest,
              io.datagw.v1.GetPoliciesResponse>(
                service, METHODID_GET_POLICIES)))
        .addMethod(
          getReloadPoliciesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ReloadPoliciesRequest,
              io.datagw.v1.ReloadPoliciesResponse>(
                service, METHODID_RELOAD_POLICIES)))
        .addMethod(
          getFlushCacheMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.FlushCacheRequest,
              io.datagw.v1.FlushCacheResponse>(
                service, METHODID_FLUSH_CACHE)))
        .addMethod(
          getListOrdersMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.AdminServiceListOrdersRequest,
              io.datagw.v1.AdminServiceListOrdersResponse>(
                service, METHODID_LIST_ORDERS)))
        .addMethod(
          getGetSagaMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetSagaRequest,
              io.datagw.v1.GetSagaResponse>(
                service, METHODID_GET_SAGA)))
        .addMethod(
          getListStuckSagasMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ListStuckSagasRequest,
              io.datagw.v1.ListStuckSagasResponse>(
                service, METHODID_LIST_STUCK_SAGAS)))
        .addMethod(
          getListProjectionsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ListProjectionsRequest,
              io.datagw.v1.ListProjectionsResponse>(
                service, METHODID_LIST_PROJECTIONS)))
        .addMethod(
          getRebuildProjectionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.RebuildProjectionRequest,
              io.datagw.v1.RebuildProjectionResponse>(
                service, METHODID_REBUILD_PROJECTION)))
        .addMethod(
          getGetRelayStatusMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetRelayStatusRequest,
              io.datagw.v1.GetRelayStatusResponse>(
                service, METHODID_GET_RELAY_STATUS)))
        .addMethod(
          getExplainCallMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ExplainCallRequest,
              io.datagw.v1.ExplainCallResponse>(
                service, METHODID_EXPLAIN_CALL)))
        .addMethod(
          getCreateReshardWorkflowMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.CreateReshardWorkflowRequest,
              io.datagw.v1.CreateReshardWorkflowResponse>(
                service, METHODID_CREATE_RESHARD_WORKFLOW)))
        .addMethod(
          getGetReshardWorkflowMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.GetReshardWorkflowRequest,
              io.datagw.v1.GetReshardWorkflowResponse>(
                service, METHODID_GET_RESHARD_WORKFLOW)))
        .addMethod(
          getListReshardWorkflowsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ListReshardWorkflowsRequest,
              io.datagw.v1.ListReshardWorkflowsResponse>(
                service, METHODID_LIST_RESHARD_WORKFLOWS)))
        .addMethod(
          getReshardWorkflowActionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.ReshardWorkflowActionRequest,
              io.datagw.v1.ReshardWorkflowActionResponse>(
                service, METHODID_RESHARD_WORKFLOW_ACTION)))
        .addMethod(
          getAddShardServerMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.AddShardServerRequest,
              io.datagw.v1.AddShardServerResponse>(
                service, METHODID_ADD_SHARD_SERVER)))
        .addMethod(
          getVerifyStoresMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.datagw.v1.VerifyStoresRequest,
              io.datagw.v1.VerifyStoresResponse>(
                service, METHODID_VERIFY_STORES)))
        .build();
  }

  private static abstract class AdminServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    AdminServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.datagw.v1.Admin.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("AdminService");
    }
  }

  private static final class AdminServiceFileDescriptorSupplier
      extends AdminServiceBaseDescriptorSupplier {
    AdminServiceFileDescriptorSupplier() {}
  }

  private static final class AdminServiceMethodDescriptorSupplier
      extends AdminServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    AdminServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (AdminServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new AdminServiceFileDescriptorSupplier())
              .addMethod(getGetTopologyMethod())
              .addMethod(getGetPoliciesMethod())
              .addMethod(getReloadPoliciesMethod())
              .addMethod(getFlushCacheMethod())
              .addMethod(getListOrdersMethod())
              .addMethod(getGetSagaMethod())
              .addMethod(getListStuckSagasMethod())
              .addMethod(getListProjectionsMethod())
              .addMethod(getRebuildProjectionMethod())
              .addMethod(getGetRelayStatusMethod())
              .addMethod(getExplainCallMethod())
              .addMethod(getCreateReshardWorkflowMethod())
              .addMethod(getGetReshardWorkflowMethod())
              .addMethod(getListReshardWorkflowsMethod())
              .addMethod(getReshardWorkflowActionMethod())
              .addMethod(getAddShardServerMethod())
              .addMethod(getVerifyStoresMethod())
              .build();
        }
      }
    }
    return result;
  }
}
