/**
 * The hand-written part of the datagw Java client: {@link io.datagw.client.Channels} builds a
 * channel with the gRPC service config every datagw client ships (retries of UNAVAILABLE and
 * RESOURCE_EXHAUSTED, wait for ready, retry throttling), {@link io.datagw.client.BearerToken}
 * sends a JWT, and {@link io.datagw.client.Errors} decodes the {@code google.rpc} details of a
 * failed call. The generated stubs are in {@code io.datagw.v1}.
 */
package io.datagw.client;
