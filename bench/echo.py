"""The echo baseline: a bare grpc.aio CatalogService with prebuilt responses.

No interceptors, no backends, no conversion: what is left is the cost of one
gRPC call in this stack (HTTP/2, protobuf parse of the request, serialization
of a response of the same size as the gateway's). Run as its own process:

    python -m bench.echo --listen 127.0.0.1:0 --get FILE --search FILE [--suggest FILE]
        [--interceptor]

FILE holds a serialized GetProductResponse / SearchProductsResponse /
SuggestProductsResponse captured from the gateway. Prints "echo serving on HOST:PORT" when ready.

--interceptor wraps the echo in the gateway's own server interceptor (span,
concurrency cap, deadline, metrics), and --redis-mget makes GetProduct
await one redis-py MGET (what a cache hit sends) on the Redis at the URL in
BENCH_REDIS_URL before answering: diagnostics that split the gateway's
overhead into its parts. The URL is taken from the environment, not the
command line, because it carries the embedded Valkey's password.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import grpc
from datagw.v1 import catalog_pb2, catalog_pb2_grpc


class EchoCatalog(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, get: catalog_pb2.GetProductResponse,
                 search: catalog_pb2.SearchProductsResponse,
                 suggest: catalog_pb2.SuggestProductsResponse, redis_url: str | None) -> None:
        self._get = get
        self._search = search
        self._suggest = suggest
        self._redis = None
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(redis_url)

    async def GetProduct(self, request: Any, context: Any) -> catalog_pb2.GetProductResponse:
        if self._redis is not None:
            # The same two keys a cache lookup reads: the entry and its generation.
            await self._redis.mget(f"bench:{request.sku}", f"bench:{request.sku}:gen")
        return self._get

    async def SearchProducts(
        self, request: Any, context: Any
    ) -> catalog_pb2.SearchProductsResponse:
        return self._search

    async def SuggestProducts(
        self, request: Any, context: Any
    ) -> catalog_pb2.SuggestProductsResponse:
        return self._suggest


async def serve(listen: str, get: bytes, search: bytes, suggest: bytes, interceptor: bool,
                redis_url: str | None) -> None:
    interceptors = []
    if interceptor:
        from gateway.api.auth.gate import AccessGate
        from gateway.api.interceptors import GatewayInterceptor
        from gateway.policy.loader import load_policies
        from gateway.runtime.config import Config
        from gateway.runtime.services import METHOD_DOMAINS, POLICY_CATALOG

        defaults = Config()
        # The gateway's access gate too, on the shipped access policy: a
        # loopback caller is identified and authorized as on the gateway.
        access = load_policies(defaults.policies_dir, POLICY_CATALOG).access
        gate = AccessGate(defaults.auth, POLICY_CATALOG.methods, lambda: access)
        interceptors.append(GatewayInterceptor(max_concurrent=defaults.max_concurrent_rpcs,
                                               default_deadline_s=defaults.default_deadline_s,
                                               gate=gate, method_domains=METHOD_DOMAINS))
    # The same channel options as the gateway's server, nothing else.
    server = grpc.aio.server(interceptors=interceptors, options=[("grpc.so_reuseport", 0)])
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(
        EchoCatalog(catalog_pb2.GetProductResponse.FromString(get),
                    catalog_pb2.SearchProductsResponse.FromString(search),
                    catalog_pb2.SuggestProductsResponse.FromString(suggest), redis_url),
        server,
    )
    port = server.add_insecure_port(listen)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"echo serving on {listen.rsplit(':', 1)[0]}:{port}", flush=True)
    await stop.wait()
    await server.stop(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--get", required=True, help="serialized GetProductResponse")
    parser.add_argument("--search", required=True, help="serialized SearchProductsResponse")
    parser.add_argument("--suggest", help="serialized SuggestProductsResponse (default: empty)")
    parser.add_argument("--interceptor", action="store_true",
                        help="wrap the echo in the gateway's server interceptor")
    parser.add_argument("--redis-mget", action="store_true",
                        help="await one MGET of two keys per GetProduct on the Redis at "
                             "$BENCH_REDIS_URL")
    args = parser.parse_args()
    redis_url = os.environ["BENCH_REDIS_URL"] if args.redis_mget else None
    suggest = Path(args.suggest).read_bytes() if args.suggest else b""
    asyncio.run(serve(args.listen, Path(args.get).read_bytes(), Path(args.search).read_bytes(),
                      suggest, args.interceptor, redis_url))


if __name__ == "__main__":
    main()
