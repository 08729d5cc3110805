from __future__ import annotations

import grpc
from datagw.v1 import catalog_pb2, common_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway.runtime.services import SERVICE_NAMES, SERVICES


async def test_upsert_then_get(catalog, uid: str) -> None:
    product = catalog_pb2.Product(
        sku=f"S-{uid}", title="Blue mug", price=common_pb2.Money(amount_minor=1299,
                                                              currency_code="EUR"),
        active=True,
    )
    created = await catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(product=product))
    assert created.created and created.product.version == 1
    got = await catalog.GetProduct(catalog_pb2.GetProductRequest(sku=f"S-{uid}"))
    assert got.product.title == "Blue mug"


async def test_the_server_serves_exactly_the_services_table(channel: grpc.aio.Channel) -> None:
    """Reflection lists what is registered: the table's services, health and
    reflection, nothing registered beside the table."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    async for response in responses:
        listed = {s.name for s in response.list_services_response.service}
        break
    assert listed == {*SERVICE_NAMES, "grpc.health.v1.Health",
                      "grpc.reflection.v1alpha.ServerReflection"}
    # And each entry registered its servicer: the first unary method of
    # every service answers an empty request with anything but UNIMPLEMENTED
    # (an empty request changes nothing: it is refused or only reads).
    for entry in SERVICES:
        method = next(m for m in entry.descriptor.methods
                      if not m.client_streaming and not m.server_streaming)
        call = channel.unary_unary(f"/{entry.name}/{method.name}")
        try:
            await call(b"", timeout=10)
        except grpc.aio.AioRpcError as err:
            assert err.code() is not grpc.StatusCode.UNIMPLEMENTED, entry.name
