package io.datagw.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import java.util.concurrent.Executor;

/**
 * Sends a JWT as {@code authorization: Bearer <token>} on every call, for a gateway with {@code
 * server.auth.jwt}; never over plaintext. Combine it with TLS credentials:
 *
 * <pre>{@code
 * CompositeChannelCredentials.create(tlsCredentials, new BearerToken(jwt))
 * }</pre>
 *
 * <p>A token that expires needs a fresh one per call: subclass {@link CallCredentials} and fetch
 * it in {@code applyRequestMetadata} (on the app executor if that blocks).
 */
public final class BearerToken extends CallCredentials {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private final String token;

  public BearerToken(String token) {
    this.token = token;
  }

  @Override
  public void applyRequestMetadata(
      RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
    if (requestInfo.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY) {
      applier.fail(Status.UNAUTHENTICATED.withDescription("a bearer token is only sent over TLS"));
      return;
    }
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + token);
    applier.apply(headers);
  }
}
