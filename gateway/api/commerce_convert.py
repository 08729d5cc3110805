"""Proto <-> domain conversions for users, orders, payments, inventory and sagas."""

from __future__ import annotations

from datetime import datetime

from datagw.v1 import (
    admin_pb2,
    common_pb2,
    inventory_pb2,
    order_pb2,
    payment_pb2,
    user_pb2,
)

from gateway.api.convert import timestamp
from gateway.domain.orders.saga import OrderLine
from gateway.records.commerce import (
    OrderRecord,
    PaymentRecord,
    ReservationRecord,
    SagaRecord,
    StockRecord,
    UserRecord,
)

ORDER_STATUS = {
    "placed": order_pb2.ORDER_STATUS_PLACED,
    "paid": order_pb2.ORDER_STATUS_PAID,
    "shipped": order_pb2.ORDER_STATUS_SHIPPED,
    "delivered": order_pb2.ORDER_STATUS_DELIVERED,
    "cancelled": order_pb2.ORDER_STATUS_CANCELLED,
}
ORDER_STATUS_IN = {v: k for k, v in ORDER_STATUS.items()}
PAYMENT_STATUS = {
    "authorized": payment_pb2.PAYMENT_STATUS_AUTHORIZED,
    "captured": payment_pb2.PAYMENT_STATUS_CAPTURED,
    "partially_refunded": payment_pb2.PAYMENT_STATUS_PARTIALLY_REFUNDED,
    "refunded": payment_pb2.PAYMENT_STATUS_REFUNDED,
    "voided": payment_pb2.PAYMENT_STATUS_VOIDED,
}
RESERVATION_STATE = {
    "held": inventory_pb2.RESERVATION_STATE_HELD,
    "committed": inventory_pb2.RESERVATION_STATE_COMMITTED,
    "released": inventory_pb2.RESERVATION_STATE_RELEASED,
    "returned": inventory_pb2.RESERVATION_STATE_RETURNED,
}
SAGA_STATE = {
    "running": admin_pb2.SAGA_STATE_RUNNING,
    "compensating": admin_pb2.SAGA_STATE_COMPENSATING,
    "completed": admin_pb2.SAGA_STATE_COMPLETED,
    "compensated": admin_pb2.SAGA_STATE_COMPENSATED,
}


def money(amount: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount, currency_code=currency)


def user_out(u: UserRecord, shard: int) -> user_pb2.User:
    return user_pb2.User(user_id=u.user_id, email=u.email, display_name=u.display_name,
                         version=u.version, create_time=timestamp(u.created_at),
                         update_time=timestamp(u.updated_at), shard=shard)


def address_in(a: order_pb2.Address) -> dict[str, str]:
    return {"name": a.name, "line1": a.line1, "line2": a.line2, "city": a.city,
            "postal_code": a.postal_code, "country_code": a.country_code}


def lines_in(items: list[order_pb2.OrderItemInput]) -> list[OrderLine]:
    return [OrderLine(i.sku, i.quantity) for i in items]


def order_out(o: OrderRecord) -> order_pb2.Order:
    return order_pb2.Order(
        order_id=o.order_id, user_id=o.user_id, status=ORDER_STATUS[o.status],
        items=[order_pb2.OrderItem(
            sku=i.sku, title=i.title, quantity=i.quantity,
            unit_price=money(i.unit_price_minor, o.currency),
            line_total=money(i.unit_price_minor * i.quantity, o.currency)) for i in o.items],
        total=money(o.total_minor, o.currency),
        shipping=order_pb2.Address(**o.shipping),
        payment_id=o.payment_id, version=o.version,
        create_time=timestamp(o.created_at), update_time=timestamp(o.updated_at))


def payment_out(p: PaymentRecord) -> payment_pb2.Payment:
    return payment_pb2.Payment(
        payment_id=p.payment_id, order_id=p.order_id, user_id=p.user_id,
        status=PAYMENT_STATUS[p.status], amount=money(p.amount_minor, p.currency),
        captured=money(p.captured_minor, p.currency),
        refunded=money(p.refunded_minor, p.currency), provider_reference=p.provider_ref,
        version=p.version, create_time=timestamp(p.created_at),
        update_time=timestamp(p.updated_at))


def stock_out(s: StockRecord) -> inventory_pb2.Stock:
    return inventory_pb2.Stock(sku=s.sku, on_hand=s.on_hand, reserved=s.reserved,
                               available=s.available, version=s.version,
                               update_time=timestamp(s.updated_at))


def reservation_out(r: ReservationRecord) -> inventory_pb2.Reservation:
    return inventory_pb2.Reservation(
        reservation_id=r.reservation_id, state=RESERVATION_STATE[r.state],
        items=[inventory_pb2.ReservationItem(sku=s, quantity=q) for s, q in r.items],
        expire_time=timestamp(r.expires_at), create_time=timestamp(r.created_at))


def saga_out(s: SagaRecord) -> admin_pb2.Saga:
    steps = []
    for step in s.steps:
        at = step.get("at")
        steps.append(admin_pb2.SagaStep(
            name=step["name"], outcome=step["outcome"], detail=step.get("detail", ""),
            time=timestamp(datetime.fromisoformat(at) if at else None)))
    return admin_pb2.Saga(
        saga_id=s.saga_id, kind=s.kind, state=SAGA_STATE[s.state], order_id=s.order_id,
        user_id=s.user_id, steps=steps, failure_reason=s.failure_reason,
        recovery_attempts=s.attempts, create_time=timestamp(s.created_at),
        update_time=timestamp(s.updated_at))

