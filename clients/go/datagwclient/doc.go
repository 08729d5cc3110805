// Package datagwclient is the hand-written part of the datagw Go client: a
// connection that applies the gRPC service config every datagw client ships
// (retries of UNAVAILABLE and RESOURCE_EXHAUSTED, wait for ready, retry
// throttling), a bearer-token credential, and the decoding of the google.rpc
// details the gateway puts on its errors.
//
// The generated stubs are in github.com/datagw/datagw/clients/go/datagw/v1:
//
//	conn, err := datagwclient.NewClient("localhost:50051",
//		grpc.WithTransportCredentials(insecure.NewCredentials()))
//	if err != nil {
//		return err
//	}
//	defer conn.Close()
//	catalog := datagwv1.NewCatalogServiceClient(conn)
package datagwclient
