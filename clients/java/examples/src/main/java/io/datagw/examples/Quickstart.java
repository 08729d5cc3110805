package io.datagw.examples;

import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.datagw.client.BearerToken;
import io.datagw.client.Channels;
import io.datagw.client.Errors;
import io.datagw.v1.Address;
import io.datagw.v1.CatalogServiceGrpc;
import io.datagw.v1.ConsistencyLevel;
import io.datagw.v1.CreateOrderRequest;
import io.datagw.v1.CreateOrderResponse;
import io.datagw.v1.CreateSessionRequest;
import io.datagw.v1.CreateUserRequest;
import io.datagw.v1.GetOrderRequest;
import io.datagw.v1.GetProductRequest;
import io.datagw.v1.GetSessionRequest;
import io.datagw.v1.GetStockRequest;
import io.datagw.v1.InventoryServiceGrpc;
import io.datagw.v1.Money;
import io.datagw.v1.Order;
import io.datagw.v1.OrderItemInput;
import io.datagw.v1.OrderServiceGrpc;
import io.datagw.v1.OrderStatus;
import io.datagw.v1.Payment;
import io.datagw.v1.PaymentMethod;
import io.datagw.v1.PaymentStatus;
import io.datagw.v1.Product;
import io.datagw.v1.ReadOptions;
import io.datagw.v1.SearchProductsRequest;
import io.datagw.v1.Session;
import io.datagw.v1.SessionServiceGrpc;
import io.datagw.v1.SetStockRequest;
import io.datagw.v1.Stock;
import io.datagw.v1.UpsertProductRequest;
import io.datagw.v1.UpsertProductResponse;
import io.datagw.v1.User;
import io.datagw.v1.UserServiceGrpc;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import java.io.File;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A tour of the datagw API as a Java service uses it: write a product, read it
 * back, search for it, keep a session, stock the product and place an order
 * for it, and decode the details of a rejected request.
 *
 * <p>Each step is a small named method listed in {@link #steps()}; a step
 * that finds the gateway answering wrongly throws, and the program exits 1.
 *
 * <pre>
 * mvn -q package   # in clients/java/examples, after make dist
 * java -cp "target/classes:$(cat target/classpath.txt)" io.datagw.examples.Quickstart [host:port]
 * </pre>
 *
 * <p>How it connects comes from the environment, the same variables as the Python, Go and Node
 * examples (see {@link #credentialsFromEnv()}): {@code DGW_ADDR} (the argument wins; default
 * localhost:50051), {@code DGW_TLS_CA}, {@code DGW_TLS_CERT} with {@code DGW_TLS_KEY}, and
 * {@code DGW_TOKEN}.
 */
public final class Quickstart {
  /** Every call gets a deadline: without one a stuck call waits forever. */
  private static final long DEADLINE_SECONDS = 10;

  /** Reads that must see the write just made ask for strong consistency. */
  private static final ReadOptions STRONG =
      ReadOptions.newBuilder().setConsistency(ConsistencyLevel.CONSISTENCY_LEVEL_STRONG).build();

  private static final String TITLE = "Speckled enamel mug";
  private static final String SEARCH_WORD = "enamel";
  private static final Money PRICE =
      Money.newBuilder().setAmountMinor(1450).setCurrencyCode("EUR").build();
  // The order: 2 of the product, from a stock of 10.
  private static final long ON_HAND = 10;
  private static final long QUANTITY = 2;

  /** One step of the tour; it throws when the gateway's answer is wrong. */
  @FunctionalInterface
  interface Action {
    void run() throws Exception;
  }

  record Step(String name, Action action) {}

  /** Thrown by {@link #check} when an answer is not what the API promises. */
  static final class CheckFailed extends Exception {
    CheckFailed(String message) {
      super(message);
    }
  }

  private final CatalogServiceGrpc.CatalogServiceBlockingStub catalog;
  private final SessionServiceGrpc.SessionServiceBlockingStub sessions;
  private final InventoryServiceGrpc.InventoryServiceBlockingStub inventory;
  private final UserServiceGrpc.UserServiceBlockingStub users;
  private final OrderServiceGrpc.OrderServiceBlockingStub orders;
  // Unique per run, so the tour also works against a gateway that keeps data.
  private final String runId;
  private final String sku;
  private final String brand;
  private final String userId;
  private final String buyerId;
  // Carried from one step to the next.
  private String sessionId;
  private String orderId;
  private String orderToken;

  Quickstart(Channel channel, String runId) {
    catalog = CatalogServiceGrpc.newBlockingStub(channel);
    sessions = SessionServiceGrpc.newBlockingStub(channel);
    inventory = InventoryServiceGrpc.newBlockingStub(channel);
    users = UserServiceGrpc.newBlockingStub(channel);
    orders = OrderServiceGrpc.newBlockingStub(channel);
    this.runId = runId;
    sku = "JAVA-" + runId;
    brand = "Quickstart " + runId;
    userId = "java-quickstart-" + runId;
    buyerId = "user-" + runId;
  }

  /** The tour in order; add a step here to extend it. */
  List<Step> steps() {
    return List.of(
        new Step("upsert product", this::upsertProduct),
        new Step("get product", this::getProduct),
        new Step("search products", this::searchProducts),
        new Step("create session", this::createSession),
        new Step("get session", this::getSession),
        new Step("set stock", this::setStock),
        new Step("create user", this::createUser),
        new Step("create order", this::createOrder),
        new Step("get order", this::getOrder),
        new Step("get stock", this::getStock),
        new Step("invalid sku is rejected with details", this::invalidSkuIsRejected));
  }

  // A stub's deadline is a point in time, so each call takes a fresh one.
  private CatalogServiceGrpc.CatalogServiceBlockingStub catalog() {
    return catalog.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  private SessionServiceGrpc.SessionServiceBlockingStub sessions() {
    return sessions.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  private InventoryServiceGrpc.InventoryServiceBlockingStub inventory() {
    return inventory.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  private UserServiceGrpc.UserServiceBlockingStub users() {
    return users.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  private OrderServiceGrpc.OrderServiceBlockingStub orders() {
    return orders.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * The idempotency key of one write. Commerce writes without one are
   * INVALID_ARGUMENT; a retry with the same key returns the first result
   * instead of writing twice, so keep the key when you retry.
   */
  private String requestId(String step) {
    return "java-qs-" + runId + "-" + step;
  }

  void upsertProduct() throws CheckFailed {
    Product product =
        Product.newBuilder()
            .setSku(sku)
            .setTitle(TITLE)
            .setBrand(brand)
            .setCategory("kitchen")
            .setPrice(PRICE)
            .setActive(true)
            .build();
    UpsertProductResponse response =
        catalog()
            .upsertProduct(
                UpsertProductRequest.newBuilder()
                    .setProduct(product)
                    // Makes a retried write safe: the gateway applies it once.
                    .setRequestId("quickstart-" + sku)
                    .build());
    long version = response.getProduct().getVersion();
    check(response.getCreated(), "expected a new product, the gateway says it existed");
    check(version == 1, "a new product has version 1, got %d", version);
    System.out.printf("upserted %s: version %d, created %b%n", sku, version, response.getCreated());
  }

  void getProduct() throws CheckFailed {
    Product product =
        catalog()
            .getProduct(GetProductRequest.newBuilder().setSku(sku).setReadOptions(STRONG).build())
            .getProduct();
    check(TITLE.equals(product.getTitle()), "title %s", product.getTitle());
    check(PRICE.equals(product.getPrice()), "price %s", product.getPrice());
    System.out.printf(
        "got %s: %s, %d %s%n",
        product.getSku(),
        product.getTitle(),
        product.getPrice().getAmountMinor(),
        product.getPrice().getCurrencyCode());
  }

  void searchProducts() throws CheckFailed {
    List<Product> found =
        catalog()
            .searchProducts(
                SearchProductsRequest.newBuilder()
                    .setQuery(SEARCH_WORD)
                    .setBrand(brand)
                    .setReadOptions(STRONG)
                    .build())
            .getProductsList();
    List<String> skus = found.stream().map(Product::getSku).toList();
    check(skus.contains(sku), "search for %s found %s, not %s", SEARCH_WORD, skus, sku);
    System.out.printf("search %s: found %s%n", SEARCH_WORD, skus);
  }

  void createSession() throws CheckFailed {
    Session session =
        sessions()
            .createSession(
                CreateSessionRequest.newBuilder().setUserId(userId).putData("cart", "1 item").build())
            .getSession();
    check(!session.getSessionId().isEmpty(), "the new session has no id");
    check(userId.equals(session.getUserId()), "session of user %s", session.getUserId());
    sessionId = session.getSessionId();
    System.out.printf("created session for %s%n", userId);
  }

  void getSession() throws CheckFailed {
    Session session =
        sessions().getSession(GetSessionRequest.newBuilder().setSessionId(sessionId).build()).getSession();
    check(userId.equals(session.getUserId()), "session of user %s", session.getUserId());
    check(
        Map.of("cart", "1 item").equals(session.getDataMap()), "session data %s", session.getDataMap());
    System.out.printf("got session of %s: data %s%n", session.getUserId(), session.getDataMap());
  }

  void setStock() throws CheckFailed {
    Stock stock =
        inventory()
            .setStock(
                SetStockRequest.newBuilder()
                    .setSku(sku)
                    .setOnHand(ON_HAND)
                    .setRequestId(requestId("set-stock"))
                    .build())
            .getStock();
    check(
        stock.getOnHand() == ON_HAND && stock.getAvailable() == ON_HAND,
        "stock on hand %d, available %d, want %d",
        stock.getOnHand(),
        stock.getAvailable(),
        ON_HAND);
    System.out.printf(
        "stock of %s: %d on hand, %d available%n", sku, stock.getOnHand(), stock.getAvailable());
  }

  void createUser() throws CheckFailed {
    User user =
        users()
            .createUser(
                CreateUserRequest.newBuilder()
                    .setUserId(buyerId)
                    .setEmail(buyerId + "@example.com")
                    .setRequestId(requestId("create-user"))
                    .build())
            .getUser();
    check(buyerId.equals(user.getUserId()), "created user %s, want %s", user.getUserId(), buyerId);
    check(user.getVersion() == 1, "a new user has version 1, got %d", user.getVersion());
    System.out.printf(
        "created user %s (%s), version %d%n", user.getUserId(), user.getEmail(), user.getVersion());
  }

  /** Reserves the stock, authorizes the payment and writes the order, all or nothing. */
  void createOrder() throws CheckFailed {
    CreateOrderResponse response =
        orders()
            .createOrder(
                CreateOrderRequest.newBuilder()
                    .setUserId(buyerId)
                    .addItems(OrderItemInput.newBuilder().setSku(sku).setQuantity(QUANTITY))
                    .setShipping(
                        Address.newBuilder()
                            .setName("Ada Lovelace")
                            .setLine1("Unter den Linden 1")
                            .setCity("Berlin")
                            .setCountryCode("DE"))
                    // A test token the built-in payment provider accepts.
                    .setPaymentMethod(PaymentMethod.newBuilder().setCardToken("tok_visa"))
                    .setRequestId(requestId("create-order"))
                    .build());
    Order order = response.getOrder();
    Payment payment = response.getPayment();
    // The lines are priced from the catalog at order time.
    Money total = order.getTotal();
    long want = QUANTITY * PRICE.getAmountMinor();
    check(order.getStatus() == OrderStatus.ORDER_STATUS_PLACED, "order status %s", order.getStatus());
    check(
        total.getAmountMinor() == want && PRICE.getCurrencyCode().equals(total.getCurrencyCode()),
        "order total %d %s, want %d %s",
        total.getAmountMinor(),
        total.getCurrencyCode(),
        want,
        PRICE.getCurrencyCode());
    check(
        payment.getStatus() == PaymentStatus.PAYMENT_STATUS_AUTHORIZED,
        "payment status %s",
        payment.getStatus());
    check(!response.getConsistencyToken().isEmpty(), "the order write returned no consistency token");
    orderId = order.getOrderId();
    orderToken = response.getConsistencyToken();
    System.out.printf(
        "placed order %s: %s, total %d %s, payment %s%n",
        orderId,
        order.getStatus(),
        total.getAmountMinor(),
        total.getCurrencyCode(),
        payment.getStatus());
  }

  /** Reads the order back with the write's token: any replica that has caught up may answer. */
  void getOrder() throws CheckFailed {
    ReadOptions readYourWrites =
        ReadOptions.newBuilder()
            .setConsistency(ConsistencyLevel.CONSISTENCY_LEVEL_READ_YOUR_WRITES)
            .setConsistencyToken(orderToken)
            .build();
    Order order =
        orders()
            .getOrder(
                GetOrderRequest.newBuilder()
                    .setOrderId(orderId)
                    .setReadOptions(readYourWrites)
                    .build())
            .getOrder();
    check(orderId.equals(order.getOrderId()), "got order %s, want %s", order.getOrderId(), orderId);
    check(order.getStatus() == OrderStatus.ORDER_STATUS_PLACED, "order status %s", order.getStatus());
    System.out.printf("got order %s (read your writes): %s%n", order.getOrderId(), order.getStatus());
  }

  void getStock() throws CheckFailed {
    Stock stock =
        inventory()
            .getStock(GetStockRequest.newBuilder().setSku(sku).setReadOptions(STRONG).build())
            .getStock();
    check(
        stock.getAvailable() == ON_HAND - QUANTITY,
        "available %d after ordering %d of %d",
        stock.getAvailable(),
        QUANTITY,
        ON_HAND);
    System.out.printf("stock of %s: %d available after the order%n", sku, stock.getAvailable());
  }

  void invalidSkuIsRejected() throws CheckFailed {
    try {
      catalog().getProduct(GetProductRequest.newBuilder().setSku("bad sku!").build());
    } catch (StatusRuntimeException e) {
      // The status and the google.rpc details from the grpc-status-details-bin trailer.
      Errors.Details details = Errors.decode(e);
      check(
          details.code() == Status.Code.INVALID_ARGUMENT,
          "expected INVALID_ARGUMENT, got %s",
          details.code());
      ErrorInfo info = details.errorInfo().orElseThrow(() -> new CheckFailed("no ErrorInfo"));
      check(
          "datagw".equals(info.getDomain()) && "INVALID_ARGUMENT".equals(details.reason()),
          "ErrorInfo %s/%s",
          info.getDomain(),
          details.reason());
      check(
          details.violation("sku").isPresent(),
          "BadRequest names fields %s, not sku",
          details.fieldViolations());
      System.out.printf("rejected: %s %s%n", details.code(), details.message());
      System.out.printf("ErrorInfo: domain=%s reason=%s%n", info.getDomain(), details.reason());
      for (BadRequest.FieldViolation v : details.fieldViolations()) {
        System.out.printf("BadRequest: %s: %s%n", v.getField(), v.getDescription());
      }
      return;
    }
    throw new CheckFailed("GetProduct(\"bad sku!\") succeeded");
  }

  static void check(boolean ok, String format, Object... args) throws CheckFailed {
    if (!ok) {
      throw new CheckFailed(String.format(format, args));
    }
  }

  /** Runs the steps in order and stops at the first failure; true when all passed. */
  boolean run() {
    List<Step> steps = steps();
    for (Step step : steps) {
      System.out.printf("==> %s%n", step.name());
      try {
        step.action().run();
      } catch (StatusRuntimeException e) {
        Status status = e.getStatus();
        System.out.printf(
            "FAILED %s: %s: %s%n", step.name(), status.getCode(), status.getDescription());
        return false;
      } catch (Exception e) {
        System.out.printf("FAILED %s: %s%n", step.name(), e.getMessage());
        return false;
      }
    }
    System.out.printf("all %d steps passed%n", steps.size());
    return true;
  }

  /**
   * The channel's credentials, from the environment:
   *
   * <ul>
   *   <li>{@code DGW_TLS_CA}: PEM file of the CA that signed the gateway's certificate
   *   <li>{@code DGW_TLS_CERT}, {@code DGW_TLS_KEY}: this client's certificate and its PKCS#8
   *       key (PEM), for a gateway with {@code server.tls.client_ca_file}
   *   <li>{@code DGW_TOKEN}: a JWT, sent as {@code authorization: Bearer <token>} on every call
   * </ul>
   *
   * <p>None set: plaintext, as {@code datagw serve} listens by default. Any of {@code DGW_TLS_CA},
   * {@code DGW_TLS_CERT} or {@code DGW_TOKEN} set: TLS, verified against {@code DGW_TLS_CA} (the
   * JDK's roots without it) for the host of the target. Not {@code DATAGW_*}: the gateway reads
   * those as its own config overrides and refuses to start on names it does not know.
   */
  static ChannelCredentials credentialsFromEnv() throws IOException {
    String ca = System.getenv("DGW_TLS_CA");
    String cert = System.getenv("DGW_TLS_CERT");
    String key = System.getenv("DGW_TLS_KEY");
    String token = System.getenv("DGW_TOKEN");
    if (isEmpty(ca) && isEmpty(cert) && isEmpty(key) && isEmpty(token)) {
      return InsecureChannelCredentials.create();
    }
    if (isEmpty(cert) != isEmpty(key)) {
      throw new IllegalArgumentException(
          "DGW_TLS_CERT and DGW_TLS_KEY go together: set both or neither");
    }
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
    if (!isEmpty(ca)) {
      tls.trustManager(new File(ca));
    }
    if (!isEmpty(cert)) {
      tls.keyManager(new File(cert), new File(key));
    }
    ChannelCredentials credentials = tls.build();
    return isEmpty(token)
        ? credentials
        : CompositeChannelCredentials.create(credentials, new BearerToken(token));
  }

  private static boolean isEmpty(String value) {
    return value == null || value.isEmpty();
  }

  public static void main(String[] args) throws InterruptedException, IOException {
    String fromEnv = System.getenv("DGW_ADDR");
    String target =
        args.length > 0 ? args[0] : isEmpty(fromEnv) ? "localhost:50051" : fromEnv;
    // The service config of every datagw client: retries of UNAVAILABLE and RESOURCE_EXHAUSTED
    // (a write keeps its request_id, so a retry never writes twice) and wait for ready.
    ManagedChannel channel = Channels.forTarget(target, credentialsFromEnv()).build();
    boolean passed;
    try {
      System.out.printf("datagw at %s%n", target);
      String runId = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
      passed = new Quickstart(channel, runId).run();
    } finally {
      channel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
    }
    System.exit(passed ? 0 : 1);
  }
}
