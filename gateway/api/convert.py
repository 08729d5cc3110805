"""Proto <-> domain conversions shared by the servicers."""

from __future__ import annotations

from datetime import UTC, datetime

from datagw.v1 import admin_pb2, catalog_pb2, common_pb2, session_pb2
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.errors import FieldViolation, InvalidArgument
from gateway.policy.model import Consistency, DomainPolicy
from gateway.records.catalog import ProductRecord
from gateway.records.sessions import SessionRecord

_LEVELS = {
    common_pb2.CONSISTENCY_LEVEL_STRONG: Consistency.STRONG,
    common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES: Consistency.READ_YOUR_WRITES,
    common_pb2.CONSISTENCY_LEVEL_BOUNDED_STALENESS: Consistency.BOUNDED_STALENESS,
    common_pb2.CONSISTENCY_LEVEL_EVENTUAL: Consistency.EVENTUAL,
}
LEVELS_OUT = {v: k for k, v in _LEVELS.items()}

# The well-known types' ranges (google/protobuf/duration.proto, timestamp.proto):
# a value outside them is no Duration or Timestamp, whatever its wire form.
NANOS = 1_000_000_000
_MAX_DURATION_S = 315_576_000_000  # 10,000 years
MIN_TIMESTAMP_S = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_TIMESTAMP_S = 253_402_300_799  # 9999-12-31T23:59:59Z


def duration_in(msg: Duration, field: str) -> float:
    """A request's Duration in seconds; INVALID_ARGUMENT on `field` (the
    request's field path) when it is outside the protobuf Duration range."""
    s, n = msg.seconds, msg.nanos
    if not (-_MAX_DURATION_S <= s <= _MAX_DURATION_S and -NANOS < n < NANOS
            and (s >= 0 or n <= 0) and (s <= 0 or n >= 0)):
        raise InvalidArgument([FieldViolation(
            field, f"must be a valid Duration: at most {_MAX_DURATION_S}s either way, "
                   "nanos within ±999999999 and of the seconds' sign")])
    return msg.ToTimedelta().total_seconds()


def timestamp_in(msg: Timestamp, field: str) -> datetime:
    """A request's Timestamp as an aware UTC datetime; INVALID_ARGUMENT on
    `field` (the request's field path) when it is outside the protobuf
    Timestamp range."""
    if not (MIN_TIMESTAMP_S <= msg.seconds <= MAX_TIMESTAMP_S and 0 <= msg.nanos < NANOS):
        raise InvalidArgument([FieldViolation(
            field, "must be a valid Timestamp: 0001-01-01T00:00:00Z to "
                   "9999-12-31T23:59:59.999999999Z, nanos 0-999999999")])
    return msg.ToDatetime(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(moment: datetime | None) -> Timestamp:
    """A Timestamp built from its seconds and nanos: Timestamp.FromDatetime is
    Python code, about 5 times slower, and every product and order answered
    converts two of them."""
    if moment is None:
        return Timestamp()
    if moment.tzinfo is None:
        moment = moment.astimezone(UTC)  # a naive time is local time
    since = moment - _EPOCH
    return Timestamp(seconds=since.days * 86_400 + since.seconds,
                     nanos=since.microseconds * 1000)


def timestamp_ms(ms: int) -> Timestamp:
    ts = Timestamp()
    ts.FromMilliseconds(ms)
    return ts


def duration(seconds: float) -> Duration:
    d = Duration()
    d.FromMilliseconds(int(seconds * 1000))
    return d


def read_options(
    msg: common_pb2.ReadOptions, present: bool
) -> tuple[Consistency | None, float | None]:
    """(requested level, requested staleness bound); None where the caller chose none.

    An enum value this server does not know maps to None and then to the
    default, which never weakens the domain's guarantee.
    """
    if not present:
        return None, None
    level = _LEVELS.get(msg.consistency)
    staleness = (duration_in(msg.max_staleness, "read_options.max_staleness")
                 if msg.HasField("max_staleness") else None)
    return level, staleness


def read_args(
    msg: common_pb2.ReadOptions, present: bool
) -> tuple[Consistency | None, float | None, str]:
    """read_options() plus the caller's consistency token."""
    level, staleness = read_options(msg, present)
    return level, staleness, msg.consistency_token if present else ""


def product_in(msg: catalog_pb2.Product) -> tuple[ProductRecord, bool]:
    """The record to store and whether a price was given at all."""
    return (
        ProductRecord(
            sku=msg.sku,
            title=msg.title,
            description=msg.description,
            category=msg.category,
            brand=msg.brand,
            price_minor=msg.price.amount_minor,
            currency=msg.price.currency_code,
            attributes=dict(msg.attributes),
            active=msg.active if msg.HasField("active") else True,
        ),
        msg.HasField("price"),
    )


def product_out(p: ProductRecord) -> catalog_pb2.Product:
    return catalog_pb2.Product(
        sku=p.sku,
        title=p.title,
        description=p.description,
        category=p.category,
        brand=p.brand,
        price=common_pb2.Money(amount_minor=p.price_minor, currency_code=p.currency),
        attributes=p.attributes,
        active=p.active,
        version=p.version,
        create_time=timestamp(p.created_at),
        update_time=timestamp(p.updated_at),
    )


def product_record(msg: catalog_pb2.Product) -> ProductRecord:
    """A whole Product message (product_out's) back to its record."""
    return ProductRecord(
        sku=msg.sku,
        title=msg.title,
        description=msg.description,
        category=msg.category,
        brand=msg.brand,
        price_minor=msg.price.amount_minor,
        currency=msg.price.currency_code,
        attributes=dict(msg.attributes),
        active=msg.active,
        version=msg.version,
        # product_out writes an empty Timestamp for a missing time.
        created_at=_moment(msg.create_time),
        updated_at=_moment(msg.update_time),
    )


def _moment(ts: Timestamp) -> datetime | None:
    return ts.ToDatetime(UTC) if ts.seconds or ts.nanos else None


class ProductProto:
    """The catalog cache's product encoding (domain.catalog ProductCodec):
    the serialized Product message, what GetProduct answers with."""

    @staticmethod
    def encode(product: ProductRecord) -> bytes:
        return product_out(product).SerializeToString()

    @staticmethod
    def decode(raw: bytes) -> ProductRecord:
        return product_record(catalog_pb2.Product.FromString(raw))


def session_out(s: SessionRecord) -> session_pb2.Session:
    return session_pb2.Session(
        session_id=s.session_id,
        user_id=s.user_id,
        data=s.data,
        create_time=timestamp_ms(s.create_ms),
        expire_time=timestamp_ms(s.expire_ms),
        last_access_time=timestamp_ms(s.last_access_ms),
    )


def policy_out(p: DomainPolicy) -> admin_pb2.DomainPolicy:
    out = admin_pb2.DomainPolicy(
        domain=p.domain,
        source_file=p.source_file,
        store=p.store.value,
        keyspace=p.keyspace or "",
        default_consistency=LEVELS_OUT[p.default_consistency],
        allowed_consistency=[LEVELS_OUT[c] for c in p.allowed_consistency],
        max_staleness=duration(p.max_staleness_s),
        cache=admin_pb2.CachePolicy(
            enabled=p.cache.enabled,
            ttl=duration(p.cache.ttl_s),
            jitter_percent=p.cache.jitter_percent,
            negative_ttl=duration(p.cache.negative_ttl_s),
            search_ttl=duration(p.cache.search_ttl_s),
            near_ttl=duration(p.cache.near_ttl_s),
            stale_while_revalidate=duration(p.cache.stale_while_revalidate_s),
            lease=duration(p.cache.lease_s),
        ),
    )
    if p.session is not None:
        out.session.CopyFrom(admin_pb2.SessionPolicy(
            ttl=duration(p.session.ttl_s), sliding=p.session.sliding,
            max_per_user=p.session.max_per_user,
        ))
    for what, seconds in p.retention:
        out.retention[what].CopyFrom(duration(seconds))
    if p.query is not None:
        out.query.CopyFrom(admin_pb2.QueryPolicy(
            max_rows=p.query.max_rows, max_execution_time=duration(p.query.max_execution_s),
            tables=list(p.query.tables), max_memory_bytes=p.query.max_memory_bytes,
        ))
    if p.domain == "catalog":  # the only domain with a search section
        out.search.CopyFrom(admin_pb2.SearchPolicy(
            language=p.search.language,
            synonyms=[admin_pb2.SynonymGroup(words=list(g)) for g in p.search.synonyms],
        ))
    return out
