// Command quickstart walks through the datagw API with the generated Go stubs:
// write a product, read and search it, create and read a session, and decode
// the details of a rejected request. Each check that fails makes it exit 1.
//
//	go run ./examples/quickstart -addr localhost:50051
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	datagwv1 "github.com/datagw/datagw/clients/go/datagw/v1"
)

// quickstart holds the clients and what one step hands to the next.
type quickstart struct {
	catalog  datagwv1.CatalogServiceClient
	sessions datagwv1.SessionServiceClient

	sku       string // unique per run, so the example can run again on the same gateway
	title     string
	price     *datagwv1.Money
	sessionID string
}

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

// invalidSku shows how to read the gateway's error details: the status in the
// grpc-status-details-bin trailer, decoded into google.rpc types.
func (q *quickstart) invalidSku(ctx context.Context) (string, error) {
	_, err := q.catalog.GetProduct(ctx, &datagwv1.GetProductRequest{Sku: "bad sku!"})
	st, ok := status.FromError(err)
	if err == nil || !ok || st.Code() != codes.InvalidArgument {
		return "", fmt.Errorf("want INVALID_ARGUMENT, got %v", err)
	}
	var info *errdetails.ErrorInfo
	var violations []*errdetails.BadRequest_FieldViolation
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			violations = append(violations, d.GetFieldViolations()...)
		case error: // a detail whose type is not linked into this binary
			return "", fmt.Errorf("undecodable detail: %w", d)
		}
	}
	if info.GetDomain() != "datagw" || info.GetReason() != "INVALID_ARGUMENT" {
		return "", fmt.Errorf("want ErrorInfo datagw/INVALID_ARGUMENT, got %v", info)
	}
	i := slices.IndexFunc(violations, func(v *errdetails.BadRequest_FieldViolation) bool { return v.GetField() == "sku" })
	if i < 0 {
		return "", fmt.Errorf("no BadRequest field violation for sku in %v", violations)
	}
	return fmt.Sprintf("%s; ErrorInfo %s/%s; BadRequest %s: %s",
		st.Code(), info.GetDomain(), info.GetReason(), violations[i].GetField(), violations[i].GetDescription()), nil
}

func main() {
	addr := flag.String("addr", "localhost:50051", "the gateway's host:port")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline of each call")
	flag.Parse()

	// NewClient does not connect yet: the first call does, within its deadline.
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintf(os.Stderr, "dial %s: %v\n", *addr, err)
		os.Exit(2)
	}
	defer conn.Close()

	q := &quickstart{
		catalog:  datagwv1.NewCatalogServiceClient(conn),
		sessions: datagwv1.NewSessionServiceClient(conn),
		sku:      fmt.Sprintf("GO-QS-%d", time.Now().UnixNano()),
		title:    "Enamel teapot",
		price:    &datagwv1.Money{AmountMinor: 2499, CurrencyCode: "EUR"},
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
