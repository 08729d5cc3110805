// The transport to use for the gateway: Connect's gRPC transport (HTTP/2) with
// the retry policy of the shared service config and a default deadline.
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport, type GrpcTransportOptions } from "@connectrpc/connect-node";
import { retryInterceptor } from "./retry.js";

export { defaultRetryPolicy, defaultRetryThrottling, retryInterceptor } from "./retry.js";
export type { RetryPolicy, RetryThrottling } from "./retry.js";
export { serviceConfig } from "./gen/service_config.js";

/** The deadline of a call that passes no timeoutMs, unless the options say otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * A gRPC transport to the gateway at `baseUrl` (http://host:port, or
 * https://host:port for TLS), which retries and waits for the gateway as
 * clients/service_config.json says. Every other option is Connect's
 * (nodeOptions for TLS, your interceptors: they run on every attempt).
 * Share one per gateway: it keeps a single HTTP/2 connection.
 */
export function createDatagwTransport(options: GrpcTransportOptions): Transport {
  const interceptors: Interceptor[] = [retryInterceptor(), ...(options.interceptors ?? [])];
  return createGrpcTransport({ defaultTimeoutMs: DEFAULT_TIMEOUT_MS, ...options, interceptors });
}

/** Adds "authorization: Bearer <token>" to every request; token() is asked each time. */
export function bearerToken(token: () => string): Interceptor {
  return (next) => async (req) => {
    req.header.set("authorization", `Bearer ${token()}`);
    return await next(req);
  };
}
