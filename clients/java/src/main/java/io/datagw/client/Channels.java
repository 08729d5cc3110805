package io.datagw.client;

import com.google.gson.Gson;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Channels to the gateway with the service config of every datagw client applied.
 *
 * <pre>{@code
 * ManagedChannel channel = Channels.forTarget("localhost:50051").build();
 * CatalogServiceGrpc.CatalogServiceBlockingStub catalog = CatalogServiceGrpc.newBlockingStub(channel);
 * }</pre>
 *
 * <p>The service config retries a call that failed with UNAVAILABLE or RESOURCE_EXHAUSTED up to
 * 5 attempts with exponential backoff, waits for the connection to be ready instead of failing
 * fast, and stops retrying when most calls fail. Retrying a write is safe because it carries a
 * {@code request_id}: the gateway answers a repeat with the first result instead of writing
 * twice. A retry resends the same request message, so it keeps the id.
 */
public final class Channels {
  /** Where the service config is on the class path (copied from clients/service_config.json). */
  public static final String SERVICE_CONFIG_RESOURCE = "/io/datagw/service_config.json";

  private Channels() {}

  /**
   * The service config, as the map {@link ManagedChannelBuilder#defaultServiceConfig} takes:
   * JSON objects as maps, arrays as lists, numbers as doubles (what Gson reads into a map).
   */
  public static Map<String, ?> serviceConfig() {
    InputStream in = Channels.class.getResourceAsStream(SERVICE_CONFIG_RESOURCE);
    if (in == null) {
      throw new IllegalStateException(SERVICE_CONFIG_RESOURCE + " is missing from the class path");
    }
    try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
      @SuppressWarnings("unchecked")
      Map<String, ?> config = new Gson().fromJson(reader, Map.class);
      return config;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A builder for a channel to {@code target} with {@code credentials}, the service config and
   * retries enabled; add your own settings (interceptors, executors) before {@code build()}.
   */
  public static ManagedChannelBuilder<?> forTarget(String target, ChannelCredentials credentials) {
    return Grpc.newChannelBuilder(target, credentials)
        .defaultServiceConfig(serviceConfig())
        .enableRetry();
  }

  /** {@link #forTarget(String, ChannelCredentials)} in plaintext, as inside the pod. */
  public static ManagedChannelBuilder<?> forTarget(String target) {
    return forTarget(target, InsecureChannelCredentials.create());
  }
}
