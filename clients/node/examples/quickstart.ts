// Quickstart: the datagw API from Node over gRPC (HTTP/2), as a list of small
// named steps that each check what the gateway answers. Adding a step is one
// function and one line in STEPS.
//
//   npm run build && npm run build:examples
//   node examples/dist/quickstart.js [ADDRESS]   (default $DGW_ADDR, else localhost:50051)
//
// It imports the package by its name, as your code does, and runs as ESM or,
// compiled with module CommonJS, through require().
//
// TLS, a client certificate and a bearer token come from DGW_TLS_CA,
// DGW_TLS_CERT, DGW_TLS_KEY and DGW_TOKEN (see connect.ts).
//
// Exits 1 at the first failed check.
import { randomBytes } from "node:crypto";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { CatalogService } from "@datagw/client/gen/datagw/v1/catalog_pb";
import { ConsistencyLevel } from "@datagw/client/gen/datagw/v1/common_pb";
import { InventoryService } from "@datagw/client/gen/datagw/v1/inventory_pb";
import { OrderService, OrderStatus } from "@datagw/client/gen/datagw/v1/order_pb";
import { PaymentStatus } from "@datagw/client/gen/datagw/v1/payment_pb";
import { SessionService } from "@datagw/client/gen/datagw/v1/session_pb";
import { UserService } from "@datagw/client/gen/datagw/v1/user_pb";
import { BadRequestSchema, ErrorInfoSchema } from "@datagw/client/gen/google/rpc/error_details_pb";
import { grpcStatus, statusDetails } from "@datagw/client/errors";
import { transportFromEnv } from "./connect.js";

/** What the steps share: the clients, and the names this run writes under. */
interface Context {
  catalog: Client<typeof CatalogService>;
  sessions: Client<typeof SessionService>;
  inventory: Client<typeof InventoryService>;
  users: Client<typeof UserService>;
  orders: Client<typeof OrderService>;
  /** Random per run: makes the SKU, the user ids and the request ids unique. */
  run: string;
  sku: string;
  title: string;
  /** A word that only this run's product has in its title, to search for. */
  word: string;
  userId: string;
  /** The shop user who places the order. */
  buyerId: string;
  /** Set by create-session, read by get-session. */
  sessionId?: string;
  /** Set by create-order, read by get-order. */
  order?: { id: string; consistencyToken: string };
}

interface Step {
  name: string;
  run(ctx: Context): Promise<void>;
}

class CheckFailed extends Error {}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new CheckFailed(what);
  }
}

function say(line: string): void {
  console.log(`    ${line}`);
}

const PRICE_MINOR = 1299n; // int64 fields are bigint in protobuf-es
const CURRENCY = "EUR";
// Reads that must see this run's writes ask for STRONG: the catalog's
// default (EVENTUAL) may answer from a cache or a replica.
const STRONG = { consistency: ConsistencyLevel.STRONG };
// The order: 2 of the product, from a stock of 10.
const ON_HAND = 10n;
const QUANTITY = 2n;

/**
 * The idempotency key of one write. Commerce writes without one are
 * INVALID_ARGUMENT; a retry with the same key returns the first result
 * instead of writing twice, so keep the key when you retry.
 */
function requestId(ctx: Context, step: string): string {
  return `node-qs-${ctx.run}-${step}`;
}

async function upsertProduct(ctx: Context): Promise<void> {
  const res = await ctx.catalog.upsertProduct({
    product: {
      sku: ctx.sku,
      title: ctx.title,
      brand: "Acme",
      category: "kitchen",
      price: { amountMinor: PRICE_MINOR, currencyCode: CURRENCY },
      active: true,
    },
  });
  check(res.created, `UpsertProduct created=${res.created}, want true for a new SKU`);
  check(res.product?.version === 1n, `version ${res.product?.version}, want 1`);
  say(`product ${ctx.sku} stored, version ${res.product.version}`);
}

async function getProduct(ctx: Context): Promise<void> {
  // A per-call deadline: the call fails with DEADLINE_EXCEEDED after 5 s.
  const res = await ctx.catalog.getProduct(
    { sku: ctx.sku, readOptions: STRONG },
    { timeoutMs: 5_000 },
  );
  const product = res.product;
  check(product?.title === ctx.title, `title ${JSON.stringify(product?.title)}, want ${ctx.title}`);
  check(
    product.price?.amountMinor === PRICE_MINOR && product.price.currencyCode === CURRENCY,
    `price ${product.price?.amountMinor} ${product.price?.currencyCode}, want ${PRICE_MINOR} ${CURRENCY}`,
  );
  say(`read back "${product.title}" at ${product.price.amountMinor} ${product.price.currencyCode} minor units`);
}

async function searchProducts(ctx: Context): Promise<void> {
  const res = await ctx.catalog.searchProducts({ query: ctx.word, readOptions: STRONG });
  const skus = res.products.map((p) => p.sku);
  check(skus.includes(ctx.sku), `search for "${ctx.word}" found [${skus.join(", ")}], not ${ctx.sku}`);
  say(`search "${ctx.word}" found ${ctx.sku}`);
}

async function createSession(ctx: Context): Promise<void> {
  const res = await ctx.sessions.createSession({ userId: ctx.userId, data: { cart: "3 items" } });
  const session = res.session;
  check(session !== undefined && session.sessionId !== "", "CreateSession returned no session id");
  check(session.userId === ctx.userId, `session user ${session.userId}, want ${ctx.userId}`);
  ctx.sessionId = session.sessionId;
  say(`session created for ${ctx.userId}`);
}

async function getSession(ctx: Context): Promise<void> {
  check(ctx.sessionId !== undefined, "no session to read: create-session did not run");
  const res = await ctx.sessions.getSession({ sessionId: ctx.sessionId });
  check(res.session?.userId === ctx.userId, `session user ${res.session?.userId}, want ${ctx.userId}`);
  const cart = res.session.data["cart"];
  check(cart === "3 items", `session data cart=${JSON.stringify(cart)}, want "3 items"`);
  say(`session read back: cart = ${cart}`);
}

async function setStock(ctx: Context): Promise<void> {
  const res = await ctx.inventory.setStock({
    sku: ctx.sku,
    onHand: ON_HAND,
    requestId: requestId(ctx, "set-stock"),
  });
  const stock = res.stock;
  check(
    stock?.onHand === ON_HAND && stock.available === ON_HAND,
    `stock on hand ${stock?.onHand}, available ${stock?.available}, want ${ON_HAND}`,
  );
  say(`stock of ${stock.sku}: ${stock.onHand} on hand, ${stock.available} available`);
}

async function createUser(ctx: Context): Promise<void> {
  const res = await ctx.users.createUser({
    userId: ctx.buyerId,
    email: `${ctx.buyerId}@example.com`,
    requestId: requestId(ctx, "create-user"),
  });
  const user = res.user;
  check(user?.userId === ctx.buyerId, `user ${user?.userId}, want ${ctx.buyerId}`);
  check(user.version === 1n, `user version ${user.version}, want 1`);
  say(`user ${user.userId} created (${user.email})`);
}

/** The order this run places; a retry sends exactly this again. */
function orderRequest(ctx: Context) {
  return {
    userId: ctx.buyerId,
    items: [{ sku: ctx.sku, quantity: QUANTITY }],
    shipping: { name: "Ada Lovelace", line1: "Unter den Linden 1", city: "Berlin", countryCode: "DE" },
    paymentMethod: { cardToken: "tok_visa" }, // a test token the built-in provider accepts
    requestId: requestId(ctx, "create-order"),
  };
}

async function createOrder(ctx: Context): Promise<void> {
  // Reserves the stock, authorizes the payment and writes the order, all or
  // nothing; the lines are priced from the catalog.
  const res = await ctx.orders.createOrder(orderRequest(ctx));
  const { order, payment } = res;
  check(order?.status === OrderStatus.PLACED, `order status ${OrderStatus[order?.status ?? 0]}, want PLACED`);
  const total = order.total;
  check(
    total?.amountMinor === QUANTITY * PRICE_MINOR && total.currencyCode === CURRENCY,
    `order total ${total?.amountMinor} ${total?.currencyCode}, want ${QUANTITY * PRICE_MINOR} ${CURRENCY}`,
  );
  check(
    payment?.status === PaymentStatus.AUTHORIZED,
    `payment status ${PaymentStatus[payment?.status ?? 0]}, want AUTHORIZED`,
  );
  check(res.consistencyToken !== "", "CreateOrder returned no consistency token");
  ctx.order = { id: order.orderId, consistencyToken: res.consistencyToken };
  say(
    `order ${order.orderId} ${OrderStatus[order.status]}, total ${total.amountMinor} ${total.currencyCode}, ` +
      `payment ${PaymentStatus[payment.status]}`,
  );
}

async function retryCreateOrder(ctx: Context): Promise<void> {
  check(ctx.order !== undefined, "no order to retry: create-order did not run");
  // Your retry of a write whose outcome you do not know (a deadline passed,
  // the connection dropped) sends the same request id: the gateway answers
  // with the first result and writes nothing twice.
  const res = await ctx.orders.createOrder(orderRequest(ctx));
  check(res.order?.orderId === ctx.order.id, `retry placed order ${res.order?.orderId}, want ${ctx.order.id}`);
  say(`create-order again with request id ${requestId(ctx, "create-order")}: the same order ${ctx.order.id}`);
}

async function getOrder(ctx: Context): Promise<void> {
  check(ctx.order !== undefined, "no order to read: create-order did not run");
  // The write's token lets any replica that has caught up with it answer.
  const res = await ctx.orders.getOrder({
    orderId: ctx.order.id,
    readOptions: {
      consistency: ConsistencyLevel.READ_YOUR_WRITES,
      consistencyToken: ctx.order.consistencyToken,
    },
  });
  const order = res.order;
  check(order?.orderId === ctx.order.id, `order ${order?.orderId}, want ${ctx.order.id}`);
  check(order.status === OrderStatus.PLACED, `order status ${OrderStatus[order.status]}, want PLACED`);
  say(`order ${order.orderId} read back with READ_YOUR_WRITES: ${OrderStatus[order.status]}`);
}

async function getStock(ctx: Context): Promise<void> {
  const res = await ctx.inventory.getStock({ sku: ctx.sku, readOptions: STRONG });
  const available = res.stock?.available;
  check(available === ON_HAND - QUANTITY, `available ${available}, want ${ON_HAND - QUANTITY}`);
  say(`stock of ${ctx.sku}: ${available} available after the order`);
}

async function invalidArgumentDetails(ctx: Context): Promise<void> {
  let err: unknown;
  try {
    await ctx.catalog.getProduct({ sku: "bad sku!" });
  } catch (e) {
    err = e;
  }
  check(err instanceof ConnectError, `GetProduct("bad sku!") gave ${String(err)}, want an error`);
  check(err.code === Code.InvalidArgument, `code ${Code[err.code]}, want InvalidArgument`);
  say(`GetProduct("bad sku!") failed: ${Code[err.code]}: ${err.rawMessage}`);

  // The trailer decoded with the google.rpc types generated in src/gen/google/rpc.
  const status = grpcStatus(err);
  check(status !== undefined, "no grpc-status-details-bin trailer");
  check(status.code === Code.InvalidArgument, `google.rpc.Status code ${status.code}`);
  const info = statusDetails(status, ErrorInfoSchema)[0];
  check(
    info?.domain === "datagw" && info.reason === "INVALID_ARGUMENT",
    `ErrorInfo ${info?.domain}/${info?.reason}, want datagw/INVALID_ARGUMENT`,
  );
  say(`ErrorInfo: domain=${info.domain} reason=${info.reason}`);
  const fields = statusDetails(status, BadRequestSchema).flatMap((b) =>
    b.fieldViolations.map((v) => v.field),
  );
  check(fields.includes("sku"), `BadRequest fields [${fields.join(", ")}], want sku`);
  say(`BadRequest: field violations on [${fields.join(", ")}]`);

  // Connect decodes the same trailer itself; findDetails is the short form.
  check(
    err.findDetails(ErrorInfoSchema)[0]?.reason === info.reason,
    "ConnectError.findDetails disagrees with the decoded trailer",
  );
}

const STEPS: Step[] = [
  { name: "upsert-product", run: upsertProduct },
  { name: "get-product", run: getProduct },
  { name: "search-products", run: searchProducts },
  { name: "create-session", run: createSession },
  { name: "get-session", run: getSession },
  { name: "set-stock", run: setStock },
  { name: "create-user", run: createUser },
  { name: "create-order", run: createOrder },
  { name: "retry-create-order", run: retryCreateOrder },
  { name: "get-order", run: getOrder },
  { name: "get-stock", run: getStock },
  { name: "invalid-argument-details", run: invalidArgumentDetails },
];

async function main(): Promise<number> {
  const address = process.argv[2] ?? process.env.DGW_ADDR ?? "localhost:50051";
  // gRPC over HTTP/2: plaintext, or TLS with what DGW_* name (connect.ts).
  const transport = transportFromEnv(address);
  // A fresh suffix per run, so the example can run again against the same gateway.
  const run = randomBytes(4).toString("hex");
  const ctx: Context = {
    catalog: createClient(CatalogService, transport),
    sessions: createClient(SessionService, transport),
    inventory: createClient(InventoryService, transport),
    users: createClient(UserService, transport),
    orders: createClient(OrderService, transport),
    run,
    sku: `NODE-QS-${run}`,
    title: `Quickstart mug q${run}`,
    word: `q${run}`,
    userId: `node-quickstart-${run}`,
    buyerId: `user-${run}`,
  };
  console.log(`datagw quickstart against ${address}`);
  for (const step of STEPS) {
    console.log(`==> ${step.name}`);
    try {
      await step.run(ctx);
    } catch (e) {
      const why = e instanceof CheckFailed ? e.message : `unexpected error: ${String(e)}`;
      console.error(`FAILED ${step.name}: ${why}`);
      return 1;
    }
    console.log(`ok  ${step.name}`);
  }
  console.log(`quickstart: ${STEPS.length} steps passed`);
  return 0;
}

// No top-level await: the same file runs as CommonJS too.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
