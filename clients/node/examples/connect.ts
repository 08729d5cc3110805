// How the quickstart reaches the gateway, from the environment; the Python, Go
// and Java examples read the same variables:
//
//   DGW_ADDR                   host:port of the gateway (the argument wins)
//   DGW_TLS_CA                 PEM file of the CA that signed the gateway's certificate
//   DGW_TLS_CERT, DGW_TLS_KEY  this client's certificate and key (PEM), for a
//                              gateway with server.tls.client_ca_file
//   DGW_TOKEN                  a JWT, sent as "authorization: Bearer <token>" on every call
//
// None of them set: plaintext (http://), as `datagw serve` listens by default.
// Any of DGW_TLS_CA, DGW_TLS_CERT or DGW_TOKEN set: TLS (https://), verified
// against DGW_TLS_CA (Node's roots without it) for the host of the address, so
// a token never goes out in plaintext. (Not DATAGW_*: the gateway reads those
// as its own config overrides and refuses to start on names it does not know.)
import { readFileSync } from "node:fs";
import type { SecureClientSessionOptions } from "node:http2";
import type { Transport } from "@connectrpc/connect";
import { bearerToken, createDatagwTransport } from "@datagw/client/transport";

export function transportFromEnv(address: string, env = process.env): Transport {
  const { DGW_TLS_CA: ca, DGW_TLS_CERT: cert, DGW_TLS_KEY: key, DGW_TOKEN: token } = env;
  const tls = Boolean(ca || cert || key || token);
  if (Boolean(cert) !== Boolean(key)) {
    throw new Error("DGW_TLS_CERT and DGW_TLS_KEY go together: set both or neither");
  }
  // Options of Node's http2.connect: the trusted CA and this client's certificate.
  const nodeOptions: SecureClientSessionOptions = {};
  if (ca) nodeOptions.ca = readFileSync(ca);
  if (cert && key) {
    nodeOptions.cert = readFileSync(cert);
    nodeOptions.key = readFileSync(key);
  }
  // The package's transport: Connect's gRPC transport with the retry policy of
  // the shared service config, and a 10 s deadline for calls that pass no timeoutMs.
  return createDatagwTransport({
    baseUrl: `${tls ? "https" : "http"}://${address}`,
    nodeOptions,
    interceptors: token ? [bearerToken(() => token)] : [],
  });
}
