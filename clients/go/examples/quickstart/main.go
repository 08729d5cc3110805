// Command quickstart walks through the datagw API with the generated Go stubs:
// write a product, read and search it, create and read a session, stock the
// product and place an order for it, and decode the details of a rejected
// request. Each check that fails makes it exit 1.
//
//	cd clients/go/examples && go run ./quickstart -addr localhost:50051
//
// With TLS, a client certificate and a token (connect.go has the variables):
//
//	DGW_TLS_CA=ca.crt DGW_TLS_CERT=client.crt DGW_TLS_KEY=client.key DGW_TOKEN=$JWT \
//	  go run ./quickstart -addr gateway.example:50051
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	datagwv1 "github.com/datagw/datagw/clients/go/datagw/v1"
	"github.com/datagw/datagw/clients/go/datagwclient"
)

// quickstart holds the clients and what one step hands to the next.
type quickstart struct {
	catalog   datagwv1.CatalogServiceClient
	sessions  datagwv1.SessionServiceClient
	inventory datagwv1.InventoryServiceClient
	users     datagwv1.UserServiceClient
	orders    datagwv1.OrderServiceClient

	// run makes the names below unique, so the example can run again on the
	// same gateway: SKUs, user ids and request ids are never reused.
	run       string
	sku       string
	title     string
	price     *datagwv1.Money
	userID    string
	sessionID string

	orderID    string
	orderToken string // consistency token of the order write, for read-your-writes
}

// The order the example places: 2 of the product, from a stock of 10.
const (
	stockOnHand   = 10
	orderQuantity = 2
)

// step is one named call and its checks; it returns what it did, for the log.
type step struct {
	name string
	run  func(*quickstart, context.Context) (string, error)
}

// steps run in order; a new API call is one more function and one more line here.
var steps = []step{
	{"upsert product", (*quickstart).upsertProduct},
	{"get product", (*quickstart).getProduct},
	{"search products", (*quickstart).searchProducts},
	{"create session", (*quickstart).createSession},
	{"get session", (*quickstart).getSession},
	{"set stock", (*quickstart).setStock},
	{"create user", (*quickstart).createUser},
	{"create order", (*quickstart).createOrder},
	{"get order", (*quickstart).getOrder},
	{"get stock", (*quickstart).getStock},
	{"invalid sku", (*quickstart).invalidSku},
}

// strong makes a read go to the primary, so it sees the write just made. The
// catalog policy lists the levels a read may ask for (AdminService/GetPolicies).
var strong = &datagwv1.ReadOptions{Consistency: datagwv1.ConsistencyLevel_CONSISTENCY_LEVEL_STRONG}

func (q *quickstart) upsertProduct(ctx context.Context) (string, error) {
	resp, err := q.catalog.UpsertProduct(ctx, &datagwv1.UpsertProductRequest{
		Product: &datagwv1.Product{
			Sku:      q.sku,
			Title:    q.title,
			Brand:    "Acme",
			Category: "kitchen",
			Price:    q.price,
			Active:   proto.Bool(true), // optional field: a pointer
		},
	})
	if err != nil {
		return "", err
	}
	// A new SKU starts at version 1; every later write adds one.
	if v := resp.GetProduct().GetVersion(); v != 1 || !resp.GetCreated() {
		return "", fmt.Errorf("want a new product at version 1, got version %d created=%t", v, resp.GetCreated())
	}
	return fmt.Sprintf("%s version=%d created=%t", q.sku, resp.GetProduct().GetVersion(), resp.GetCreated()), nil
}

func (q *quickstart) getProduct(ctx context.Context) (string, error) {
	resp, err := q.catalog.GetProduct(ctx, &datagwv1.GetProductRequest{Sku: q.sku, ReadOptions: strong})
	if err != nil {
		return "", err
	}
	p := resp.GetProduct()
	price := p.GetPrice()
	if p.GetTitle() != q.title || price.GetAmountMinor() != q.price.GetAmountMinor() ||
		price.GetCurrencyCode() != q.price.GetCurrencyCode() {
		return "", fmt.Errorf("read back %q %d %s, wrote %q %d %s", p.GetTitle(),
			price.GetAmountMinor(), price.GetCurrencyCode(), q.title, q.price.GetAmountMinor(), q.price.GetCurrencyCode())
	}
	return fmt.Sprintf("%s %q %d %s", p.GetSku(), p.GetTitle(), price.GetAmountMinor(), price.GetCurrencyCode()), nil
}

func (q *quickstart) searchProducts(ctx context.Context) (string, error) {
	// Newest first puts this run's product on the first page even when earlier
	// runs left other teapots behind.
	resp, err := q.catalog.SearchProducts(ctx, &datagwv1.SearchProductsRequest{
		Query:       "teapot",
		Sort:        datagwv1.ProductSort_PRODUCT_SORT_NEWEST,
		PageSize:    100,
		ReadOptions: strong,
	})
	if err != nil {
		return "", err
	}
	found := slices.ContainsFunc(resp.GetProducts(), func(p *datagwv1.Product) bool { return p.GetSku() == q.sku })
	if !found {
		return "", fmt.Errorf("%s is not among the %d results for \"teapot\"", q.sku, len(resp.GetProducts()))
	}
	return fmt.Sprintf("\"teapot\" found %s among %d results", q.sku, len(resp.GetProducts())), nil
}

func (q *quickstart) createSession(ctx context.Context) (string, error) {
	resp, err := q.sessions.CreateSession(ctx, &datagwv1.CreateSessionRequest{
		UserId: "go-quickstart",
		Data:   map[string]string{"cart": q.sku},
	})
	if err != nil {
		return "", err
	}
	q.sessionID = resp.GetSession().GetSessionId()
	if q.sessionID == "" {
		return "", errors.New("the new session has no id")
	}
	return fmt.Sprintf("user go-quickstart, expires %s", resp.GetSession().GetExpireTime().AsTime().Format(time.RFC3339)), nil
}

func (q *quickstart) getSession(ctx context.Context) (string, error) {
	resp, err := q.sessions.GetSession(ctx, &datagwv1.GetSessionRequest{SessionId: q.sessionID})
	if err != nil {
		return "", err
	}
	s := resp.GetSession()
	if s.GetUserId() != "go-quickstart" || s.GetData()["cart"] != q.sku {
		return "", fmt.Errorf("read back user %q data %v", s.GetUserId(), s.GetData())
	}
	return fmt.Sprintf("user %s cart=%s", s.GetUserId(), s.GetData()["cart"]), nil
}

// requestID is the idempotency key of one write. Commerce writes without one
// are INVALID_ARGUMENT; a retry with the same key returns the first result
// instead of writing twice, so a client keeps the key when it retries.
func (q *quickstart) requestID(step string) string {
	return "go-qs-" + q.run + "-" + step
}

func (q *quickstart) setStock(ctx context.Context) (string, error) {
	resp, err := q.inventory.SetStock(ctx, &datagwv1.SetStockRequest{
		Sku:       q.sku,
		OnHand:    stockOnHand,
		RequestId: q.requestID("set-stock"),
	})
	if err != nil {
		return "", err
	}
	s := resp.GetStock()
	if s.GetOnHand() != stockOnHand || s.GetAvailable() != stockOnHand {
		return "", fmt.Errorf("want on_hand=available=%d, got on_hand=%d available=%d", stockOnHand, s.GetOnHand(), s.GetAvailable())
	}
	return fmt.Sprintf("%s on_hand=%d available=%d", s.GetSku(), s.GetOnHand(), s.GetAvailable()), nil
}

func (q *quickstart) createUser(ctx context.Context) (string, error) {
	resp, err := q.users.CreateUser(ctx, &datagwv1.CreateUserRequest{
		UserId:    q.userID,
		Email:     q.userID + "@example.com",
		RequestId: q.requestID("create-user"),
	})
	if err != nil {
		return "", err
	}
	u := resp.GetUser()
	if u.GetUserId() != q.userID || u.GetVersion() != 1 {
		return "", fmt.Errorf("want a new user %s at version 1, got %s version %d", q.userID, u.GetUserId(), u.GetVersion())
	}
	return fmt.Sprintf("%s <%s> version=%d", u.GetUserId(), u.GetEmail(), u.GetVersion()), nil
}

// createOrder places an order: the gateway reserves the stock, authorizes the
// payment and writes the order, all or nothing.
func (q *quickstart) createOrder(ctx context.Context) (string, error) {
	resp, err := q.orders.CreateOrder(ctx, &datagwv1.CreateOrderRequest{
		UserId: q.userID,
		Items:  []*datagwv1.OrderItemInput{{Sku: q.sku, Quantity: orderQuantity}},
		Shipping: &datagwv1.Address{
			Name: "Ada Lovelace", Line1: "Unter den Linden 1", City: "Berlin", CountryCode: "DE",
		},
		PaymentMethod: &datagwv1.PaymentMethod{CardToken: "tok_visa"}, // a test token the built-in provider accepts
		RequestId:     q.requestID("create-order"),
	})
	if err != nil {
		return "", err
	}
	o, pay := resp.GetOrder(), resp.GetPayment()
	// The order is priced from the catalog at order time.
	want := orderQuantity * q.price.GetAmountMinor()
	switch {
	case o.GetStatus() != datagwv1.OrderStatus_ORDER_STATUS_PLACED:
		return "", fmt.Errorf("order status %s, want ORDER_STATUS_PLACED", o.GetStatus())
	case o.GetTotal().GetAmountMinor() != want || o.GetTotal().GetCurrencyCode() != q.price.GetCurrencyCode():
		return "", fmt.Errorf("order total %d %s, want %d %s", o.GetTotal().GetAmountMinor(),
			o.GetTotal().GetCurrencyCode(), want, q.price.GetCurrencyCode())
	case pay.GetStatus() != datagwv1.PaymentStatus_PAYMENT_STATUS_AUTHORIZED:
		return "", fmt.Errorf("payment status %s, want PAYMENT_STATUS_AUTHORIZED", pay.GetStatus())
	case resp.GetConsistencyToken() == "":
		return "", errors.New("the order write returned no consistency token")
	}
	q.orderID, q.orderToken = o.GetOrderId(), resp.GetConsistencyToken()
	return fmt.Sprintf("%s %s total=%d %s payment %s", o.GetOrderId(), o.GetStatus(),
		o.GetTotal().GetAmountMinor(), o.GetTotal().GetCurrencyCode(), pay.GetStatus()), nil
}

// getOrder reads the order back with READ_YOUR_WRITES: the token of the write
// lets the gateway answer from any replica that has caught up with it.
func (q *quickstart) getOrder(ctx context.Context) (string, error) {
	resp, err := q.orders.GetOrder(ctx, &datagwv1.GetOrderRequest{
		OrderId: q.orderID,
		ReadOptions: &datagwv1.ReadOptions{
			Consistency:      datagwv1.ConsistencyLevel_CONSISTENCY_LEVEL_READ_YOUR_WRITES,
			ConsistencyToken: q.orderToken,
		},
	})
	if err != nil {
		return "", err
	}
	o := resp.GetOrder()
	if o.GetOrderId() != q.orderID || o.GetStatus() != datagwv1.OrderStatus_ORDER_STATUS_PLACED {
		return "", fmt.Errorf("read back order %s %s, placed %s", o.GetOrderId(), o.GetStatus(), q.orderID)
	}
	return fmt.Sprintf("%s %s (read your writes)", o.GetOrderId(), o.GetStatus()), nil
}

func (q *quickstart) getStock(ctx context.Context) (string, error) {
	resp, err := q.inventory.GetStock(ctx, &datagwv1.GetStockRequest{Sku: q.sku, ReadOptions: strong})
	if err != nil {
		return "", err
	}
	s := resp.GetStock()
	if want := int64(stockOnHand - orderQuantity); s.GetAvailable() != want {
		return "", fmt.Errorf("available %d after ordering %d of %d, want %d", s.GetAvailable(), orderQuantity, stockOnHand, want)
	}
	return fmt.Sprintf("%s on_hand=%d available=%d", s.GetSku(), s.GetOnHand(), s.GetAvailable()), nil
}

// invalidSku shows how to read the gateway's error details: the status in the
// grpc-status-details-bin trailer, decoded into google.rpc types by
// datagwclient.DecodeError.
func (q *quickstart) invalidSku(ctx context.Context) (string, error) {
	_, err := q.catalog.GetProduct(ctx, &datagwv1.GetProductRequest{Sku: "bad sku!"})
	e := datagwclient.DecodeError(err)
	if e == nil || e.Code != codes.InvalidArgument {
		return "", fmt.Errorf("want INVALID_ARGUMENT, got %v", err)
	}
	if e.Info.GetDomain() != "datagw" || e.Reason() != "INVALID_ARGUMENT" {
		return "", fmt.Errorf("want ErrorInfo datagw/INVALID_ARGUMENT, got %v", e.Info)
	}
	violation, ok := e.Violation("sku")
	if !ok {
		return "", fmt.Errorf("no BadRequest field violation for sku in %v", e.FieldViolations)
	}
	return fmt.Sprintf("%s; ErrorInfo %s/%s; BadRequest sku: %s",
		e.Code, e.Info.GetDomain(), e.Reason(), violation), nil
}

func main() {
	addr := flag.String("addr", envOr("DGW_ADDR", "localhost:50051"), "the gateway's host:port (or set DGW_ADDR)")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline of each call")
	flag.Parse()

	opts, err := dialOptions()
	if err != nil {
		fmt.Fprintf(os.Stderr, "quickstart: %v\n", err)
		os.Exit(2)
	}
	// NewClient applies the service config that retries UNAVAILABLE and
	// RESOURCE_EXHAUSTED; it does not connect yet: the first call does,
	// within its deadline.
	conn, err := datagwclient.NewClient(*addr, opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dial %s: %v\n", *addr, err)
		os.Exit(2)
	}
	defer conn.Close()

	suffix := make([]byte, 5)
	rand.Read(suffix) // never returns an error: crypto/rand crashes the program instead
	run := hex.EncodeToString(suffix)
	q := &quickstart{
		catalog:   datagwv1.NewCatalogServiceClient(conn),
		sessions:  datagwv1.NewSessionServiceClient(conn),
		inventory: datagwv1.NewInventoryServiceClient(conn),
		users:     datagwv1.NewUserServiceClient(conn),
		orders:    datagwv1.NewOrderServiceClient(conn),
		run:       run,
		sku:       "GO-QS-" + run,
		title:     "Enamel teapot",
		price:     &datagwv1.Money{AmountMinor: 2499, CurrencyCode: "EUR"},
		userID:    "user-" + run,
	}
	fmt.Printf("datagw quickstart against %s\n", *addr)
	for _, s := range steps {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		done, err := s.run(q, ctx)
		cancel()
		if err != nil {
			fmt.Printf("FAIL %s: %v\n", s.name, err)
			conn.Close()
			os.Exit(1)
		}
		fmt.Printf("ok   %s: %s\n", s.name, done)
	}
	fmt.Printf("all %d steps passed\n", len(steps))
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
