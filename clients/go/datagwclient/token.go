package datagwclient

import (
	"context"

	"google.golang.org/grpc/credentials"
)

// BearerToken sends token as "authorization: Bearer <token>" on every call,
// for a gateway with server.auth.jwt. It requires transport security, so
// grpc-go refuses to send it over a plaintext connection. A token that
// expires needs a fresh one per call: implement
// credentials.PerRPCCredentials with a refreshing source instead (or use
// google.golang.org/grpc/credentials/oauth with an oauth2.TokenSource).
func BearerToken(token string) credentials.PerRPCCredentials {
	return bearerToken(token)
}

type bearerToken string

func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return true }
