"""Looking services up by their clave de servicio."""
from __future__ import annotations

from sqlalchemy import func, select

from banking_core import errors
from banking_core.catalog import AmountRule, ReferenceRule, Service, normalize_service_key
from banking_core.models import Biller


def to_service(biller: Biller) -> Service:
    return Service(
        id=biller.id,
        service_key=biller.service_key,
        name=biller.name,
        active=biller.active,
        collection_account_id=biller.collection_account_id,
        references=tuple(
            ReferenceRule(
                position=r.position, label=r.label, charset=r.charset,
                min_length=r.min_length, max_length=r.max_length, check_digit=r.check_digit,
            )
            for r in biller.references
        ),
        amount_rule=AmountRule(
            min_centavos=biller.amount_min_centavos,
            max_centavos=biller.amount_max_centavos,
            fixed_centavos=biller.amount_fixed_centavos,
        ),
    )


def load_service(session, service_key: str) -> Service:
    key = normalize_service_key(service_key)
    biller = session.scalars(select(Biller).where(Biller.service_key == key)).one_or_none()
    if biller is None:
        raise errors.UnknownService(f"there is no service {key}", service_key=key)
    return to_service(biller)


def find_service(bank, service_key: str, *, include_inactive: bool = False) -> Service:
    """The service with that key. Inactive services raise ServiceInactive unless
    asked for (an operator's listing still wants to see them)."""
    with bank.unit_of_work() as uow:
        service = load_service(uow.session, service_key)
    return service if include_inactive else service.require_active()


def list_services(bank) -> list[Service]:
    with bank.unit_of_work() as uow:
        billers = uow.session.scalars(select(Biller).order_by(func.length(Biller.service_key), Biller.service_key)).all()
        return [to_service(b) for b in billers]
