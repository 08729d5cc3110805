package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/datagw/datagw/clients/go/datagwclient"
)

// How the example reaches the gateway, from the environment; the Python, Node
// and Java examples read the same variables:
//
//	DGW_ADDR                  host:port of the gateway (the -addr flag wins)
//	DGW_TLS_CA                PEM file of the CA that signed the gateway's certificate
//	DGW_TLS_CERT, DGW_TLS_KEY this client's certificate and key (PEM), for a
//	                          gateway with server.tls.client_ca_file
//	DGW_TOKEN                 a JWT, sent as "authorization: Bearer <token>" on every call
//
// None of them set: plaintext, as `datagw serve` listens by default. Any of
// DGW_TLS_CA, DGW_TLS_CERT or DGW_TOKEN set: TLS, verified against DGW_TLS_CA
// (the system's roots without it) for the host of the address; a token is
// never sent over plaintext. (Not DATAGW_*: the gateway reads those as its
// own config overrides and refuses to start on names it does not know.)
func dialOptions() ([]grpc.DialOption, error) {
	ca, cert, key, token := os.Getenv("DGW_TLS_CA"), os.Getenv("DGW_TLS_CERT"),
		os.Getenv("DGW_TLS_KEY"), os.Getenv("DGW_TOKEN")
	if ca == "" && cert == "" && key == "" && token == "" {
		return []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, nil
	}
	// ServerName stays empty: grpc-go verifies the host of the dialled address.
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("DGW_TLS_CA: %w", err)
		}
		config.RootCAs = x509.NewCertPool()
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("DGW_TLS_CA: no PEM certificate in %s", ca)
		}
	}
	if (cert == "") != (key == "") {
		return nil, errors.New("DGW_TLS_CERT and DGW_TLS_KEY go together: set both or neither")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("DGW_TLS_CERT/DGW_TLS_KEY: %w", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(config))}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(datagwclient.BearerToken(token)))
	}
	return opts, nil
}
