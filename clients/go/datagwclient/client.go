package datagwclient

import (
	_ "embed"

	"google.golang.org/grpc"
)

// ServiceConfig is the gRPC service config of every datagw client, in JSON: it
// retries a call that failed with UNAVAILABLE or RESOURCE_EXHAUSTED up to 5
// attempts with exponential backoff, waits for the connection to be ready
// instead of failing fast, and stops retrying when most calls fail. Retrying a
// write is safe because it carries a request_id: the gateway answers a repeat
// with the first result instead of writing twice.
//
// service_config.json is a copy of clients/service_config.json (go:embed
// cannot reach outside the module); scripts/generate_go.sh writes it and the
// staleness test checks it.
//
//go:embed service_config.json
var ServiceConfig string

// NewClient is grpc.NewClient with ServiceConfig as the default service
// config; opts come after it, so a caller's grpc.WithDefaultServiceConfig
// wins. Like grpc.NewClient it does not connect: the first call does, within
// its deadline. Share one connection per gateway between goroutines.
func NewClient(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	return grpc.NewClient(target, append([]grpc.DialOption{grpc.WithDefaultServiceConfig(ServiceConfig)}, opts...)...)
}
