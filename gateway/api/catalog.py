"""CatalogService: proto in, domain call, proto out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from datagw.v1 import catalog_pb2, catalog_pb2_grpc

from gateway.api.convert import product_in, product_out, read_options
from gateway.domain.catalog.facets import DEFAULT_FACET_SIZE
from gateway.domain.catalog.rules import DEFAULT_PAGE_SIZE, DEFAULT_SUGGESTIONS
from gateway.domain.catalog.service import CatalogDomain
from gateway.records.catalog import FacetCounts, PriceBand, ProductRecord, SearchQuery

Context = grpc.aio.ServicerContext[Any, Any]

_SORTS = {
    catalog_pb2.PRODUCT_SORT_UNSPECIFIED: "relevance",
    catalog_pb2.PRODUCT_SORT_RELEVANCE: "relevance",
    catalog_pb2.PRODUCT_SORT_PRICE_ASC: "price_asc",
    catalog_pb2.PRODUCT_SORT_PRICE_DESC: "price_desc",
    catalog_pb2.PRODUCT_SORT_NEWEST: "newest",
    catalog_pb2.PRODUCT_SORT_POPULAR: "popular",
}


def search_query_in(request: catalog_pb2.SearchProductsRequest) -> tuple[SearchQuery, int]:
    """The query a SearchProducts request asks for, and its facet size
    (0: no facets)."""
    query = SearchQuery(
        text=request.query.strip(),
        category=request.category,
        brand=request.brand,
        min_price=request.min_price_minor if request.HasField("min_price_minor") else None,
        max_price=request.max_price_minor if request.HasField("max_price_minor") else None,
        sort=_SORTS.get(request.sort, "relevance"),
        limit=request.page_size if request.page_size != 0 else DEFAULT_PAGE_SIZE,
        include_inactive=request.include_inactive,
        categories=tuple(request.categories),
        brands=tuple(request.brands),
        price_bands=tuple(
            PriceBand(b.min_price_minor,
                      b.max_price_minor if b.HasField("max_price_minor") else None)
            for b in request.price_bands),
        in_stock=request.in_stock,
    )
    return query, (request.facet_size or DEFAULT_FACET_SIZE) if request.include_facets else 0


def import_rows(message: catalog_pb2.ImportProductsRequest) -> list[tuple[ProductRecord, bool]]:
    """The rows of one streamed message: `product`, then `products`; a
    message without `products` is one row, `product` set or not (so an
    empty message is a row the domain rejects, as it always was)."""
    if not message.products:
        return [product_in(message.product)]
    rows = [product_in(message.product)] if message.HasField("product") else []
    rows += [product_in(p) for p in message.products]
    return rows


def facets_out(f: FacetCounts) -> catalog_pb2.SearchFacets:
    return catalog_pb2.SearchFacets(
        brands=[catalog_pb2.FacetCount(value=v, count=n) for v, n in f.brands],
        categories=[catalog_pb2.FacetCount(value=v, count=n) for v, n in f.categories],
        price_bands=[catalog_pb2.PriceBandCount(
            band=catalog_pb2.PriceBand(min_price_minor=b.low, max_price_minor=b.high), count=n)
            for b, n in f.price_bands],
        in_stock_count=f.in_stock, out_of_stock_count=f.out_of_stock, total_count=f.total,
        approximate=f.approximate, counted=f.counted)


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, domain: CatalogDomain) -> None:
        self._domain = domain

    async def UpsertProduct(
        self, request: catalog_pb2.UpsertProductRequest, context: Context
    ) -> catalog_pb2.UpsertProductResponse:
        product, has_price = product_in(request.product)
        result = await self._domain.upsert(
            product,
            has_price=has_price,
            expected_version=request.expected_version
            if request.HasField("expected_version") else None,
            request_id=request.request_id,
        )
        assert result.product is not None
        return catalog_pb2.UpsertProductResponse(
            product=product_out(result.product), created=result.created,
            consistency_token=result.consistency_token,
        )

    async def GetProduct(
        self, request: catalog_pb2.GetProductRequest, context: Context
    ) -> catalog_pb2.GetProductResponse:
        level, staleness = read_options(request.read_options, request.HasField("read_options"))
        # The cache holds the Product message serialized (api.convert.ProductProto):
        # parsed as it is, not rebuilt field by field.
        response = catalog_pb2.GetProductResponse()
        response.product.MergeFromString(
            await self._domain.get_encoded(request.sku, level, staleness))
        return response

    async def BatchGetProducts(
        self, request: catalog_pb2.BatchGetProductsRequest, context: Context
    ) -> catalog_pb2.BatchGetProductsResponse:
        level, staleness = read_options(request.read_options, request.HasField("read_options"))
        found, missing = await self._domain.batch_get(list(request.skus), level, staleness)
        return catalog_pb2.BatchGetProductsResponse(
            products=[product_out(p) for p in found], missing_skus=missing
        )

    async def DeleteProduct(
        self, request: catalog_pb2.DeleteProductRequest, context: Context
    ) -> catalog_pb2.DeleteProductResponse:
        token = await self._domain.delete(
            request.sku,
            expected_version=request.expected_version
            if request.HasField("expected_version") else None,
            request_id=request.request_id,
        )
        return catalog_pb2.DeleteProductResponse(consistency_token=token)

    async def SearchProducts(
        self, request: catalog_pb2.SearchProductsRequest, context: Context
    ) -> catalog_pb2.SearchProductsResponse:
        level, staleness = read_options(request.read_options, request.HasField("read_options"))
        query, facet_size = search_query_in(request)
        page = await self._domain.search(query, request.page_token, level, staleness,
                                         facet_size)
        return catalog_pb2.SearchProductsResponse(
            products=[product_out(p) for p in page.products],
            next_page_token=page.next_page_token,
            facets=facets_out(page.facets) if page.facets else None,
        )

    async def SuggestProducts(
        self, request: catalog_pb2.SuggestProductsRequest, context: Context
    ) -> catalog_pb2.SuggestProductsResponse:
        level, staleness = read_options(request.read_options, request.HasField("read_options"))
        found = await self._domain.suggest(request.prefix, request.limit or DEFAULT_SUGGESTIONS,
                                           level, staleness)
        return catalog_pb2.SuggestProductsResponse(suggestions=[
            catalog_pb2.ProductSuggestion(text=s.text, word=s.word, product_count=s.products)
            for s in found])

    async def ImportProducts(
        self, request_iterator: AsyncIterator[catalog_pb2.ImportProductsRequest], context: Context
    ) -> catalog_pb2.ImportProductsResponse:
        async def messages() -> AsyncIterator[list[tuple[ProductRecord, bool]]]:
            async for message in request_iterator:
                yield import_rows(message)

        report = await self._domain.import_products(messages())
        return catalog_pb2.ImportProductsResponse(
            received_count=report.received,
            imported_count=report.imported,
            failed_count=report.failed,
            errors=[
                catalog_pb2.ImportRowError(
                    index=index, sku=sku, field=v.field, description=v.description
                )
                for index, sku, v in report.errors
            ],
        )
