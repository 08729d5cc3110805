from __future__ import annotations

from datagw.v1 import catalog_pb2, common_pb2


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
