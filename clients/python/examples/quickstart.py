"""Write a product and read it back, over plaintext or TLS with a client
certificate and/or a bearer token, chosen by the environment.

    python clients/python/examples/quickstart.py [HOST:PORT]

The variables are the same in the Go, Node and Java examples:

    DGW_ADDR                   host:port of the gateway (the argument wins;
                               default localhost:50051)
    DGW_TLS_CA                 PEM file of the CA that signed the gateway's certificate
    DGW_TLS_CERT, DGW_TLS_KEY  this client's certificate and key (PEM), for a
                               gateway with server.tls.client_ca_file
    DGW_TOKEN                  a JWT, sent as "authorization: Bearer <token>"

None set: plaintext, as `datagw serve` listens by default. Any of DGW_TLS_CA,
DGW_TLS_CERT or DGW_TOKEN set: TLS, verified against DGW_TLS_CA (the system's
roots without it) for the host of the address; grpc never sends the token
over plaintext. (Not DATAGW_*: the gateway reads those as its own config
overrides and refuses to start on names it does not know.)
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import grpc
from datagw.v1 import catalog_pb2, catalog_pb2_grpc, common_pb2

DEADLINE_S = 10.0


def _read(variable: str) -> bytes | None:
    path = os.environ.get(variable)
    return Path(path).read_bytes() if path else None


def channel_from_env(address: str) -> grpc.Channel:
    ca, cert, key = _read("DGW_TLS_CA"), _read("DGW_TLS_CERT"), _read("DGW_TLS_KEY")
    token = os.environ.get("DGW_TOKEN")
    if not (ca or cert or key or token):
        return grpc.insecure_channel(address)
    if (cert is None) != (key is None):
        sys.exit("DGW_TLS_CERT and DGW_TLS_KEY go together: set both or neither")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert)
    if token:
        # access_token_call_credentials sends "authorization: Bearer <token>" on
        # every call; composed with TLS, it cannot go out over plaintext.
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(token))
    return grpc.secure_channel(address, credentials)


def main() -> int:
    address = sys.argv[1] if len(sys.argv) > 1 else \
        os.environ.get("DGW_ADDR", "localhost:50051")
    sku = f"PY-QS-{uuid.uuid4().hex[:10]}"  # new per run: the example can run again
    print(f"datagw quickstart against {address}")
    with channel_from_env(address) as channel:
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        try:
            written = catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(product={
                "sku": sku, "title": "Stoneware bowl", "brand": "Acme", "category": "kitchen",
                "price": {"amount_minor": 1850, "currency_code": "EUR"}, "active": True,
            }), timeout=DEADLINE_S)
            print(f"ok   upsert product: {sku} version={written.product.version}")
            # STRONG: straight from the primary, so it sees the write just made.
            strong = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_STRONG)
            read = catalog.GetProduct(catalog_pb2.GetProductRequest(
                sku=sku, read_options=strong), timeout=DEADLINE_S)
        except grpc.RpcError as e:
            print(f"FAIL {e.code().name}: {e.details()}")
            return 1
        if read.product.title != "Stoneware bowl":
            print(f"FAIL read back {read.product.title!r}")
            return 1
        print(f"ok   get product: {sku} {read.product.title!r} "
              f"{read.product.price.amount_minor} {read.product.price.currency_code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
