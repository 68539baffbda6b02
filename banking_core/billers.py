"""Looking services up by their clave de servicio."""
from __future__ import annotations

from sqlalchemy import bindparam, func, select

from banking_core import errors
from banking_core.catalog import AmountRule, ReferenceRule, Service, normalize_service_key
from banking_core.models import Biller, BillerReference

# One query for a service and its references: this runs on every payment.
_SERVICE = (
    select(Biller.id, Biller.service_key, Biller.name, Biller.active, Biller.version,
           Biller.collection_account_id, Biller.amount_min_centavos,
           Biller.amount_max_centavos, Biller.amount_fixed_centavos,
           BillerReference.position, BillerReference.label, BillerReference.spoken_label,
           BillerReference.charset,
           BillerReference.min_length, BillerReference.max_length,
           BillerReference.check_digit)
    .outerjoin(BillerReference, BillerReference.biller_id == Biller.id)
)
_SERVICE_BY_KEY = _SERVICE.where(Biller.service_key == bindparam("key")) \
    .order_by(BillerReference.position)


def _build(rows) -> Service:
    first = rows[0]
    return Service(
        id=first.id, service_key=first.service_key, name=first.name, active=first.active,
        collection_account_id=first.collection_account_id, version=first.version,
        references=tuple(
            ReferenceRule(position=r.position, label=r.label, charset=r.charset,
                          spoken_label=r.spoken_label,
                          min_length=r.min_length, max_length=r.max_length,
                          check_digit=r.check_digit)
            for r in rows if r.position is not None
        ),
        amount_rule=AmountRule(min_centavos=first.amount_min_centavos,
                               max_centavos=first.amount_max_centavos,
                               fixed_centavos=first.amount_fixed_centavos),
    )


def load_service(executor, service_key: str) -> Service:
    """`executor`: a Session or a Connection."""
    key = normalize_service_key(service_key)
    rows = executor.execute(_SERVICE_BY_KEY, {"key": key}).all()
    if not rows:
        raise errors.UnknownService(f"there is no service {key}", service_key=key)
    return _build(rows)


def find_service(bank, service_key: str, *, include_inactive: bool = False) -> Service:
    """The service with that key. Inactive services raise ServiceInactive unless
    asked for (an operator's listing still wants to see them)."""
    with bank.engine.connect() as connection:
        service = load_service(connection, service_key)
    bank.services.put(service)
    return service if include_inactive else service.require_active()


def list_services(bank) -> list[Service]:
    with bank.engine.connect() as connection:
        rows = connection.execute(_SERVICE.order_by(
            func.length(Biller.service_key), Biller.service_key, BillerReference.position)).all()
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row.id, []).append(row)
    return [_build(group) for group in grouped.values()]


class ServiceCache:
    """Services as this process last read them, for the payment path.

    Never trusted blindly: each posting checks, in its transaction, that the
    cached version is still the database's (posting.py), and a refusal drawn
    from the cache is confirmed against the database before it is believed.
    """

    def __init__(self):
        self._by_key: dict[str, Service] = {}

    def get(self, service_key: str) -> Service | None:
        return self._by_key.get(service_key)

    def put(self, service: Service) -> None:
        self._by_key[service.service_key] = service

    def evict(self, service_key: str) -> None:
        self._by_key.pop(service_key, None)
