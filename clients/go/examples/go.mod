// The examples are their own module, so the client module's go.mod lists only
// what the client needs: a user's `go get` never pulls an example's dependency.
// The replace builds them against this checkout; outside it (as the e2e test
// does) they build against the released client.
module github.com/datagw/datagw/clients/go/examples

go 1.23.0

require (
	github.com/datagw/datagw/clients/go v1.0.0
	google.golang.org/grpc v1.72.1
	google.golang.org/protobuf v1.36.12
)

require (
	buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go v1.36.12-20260825204119-511051f7f437.2 // indirect
	golang.org/x/net v0.35.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
	golang.org/x/text v0.22.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20250303144028-a0af3efb3deb // indirect
)

replace github.com/datagw/datagw/clients/go => ../
