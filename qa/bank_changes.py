"""A transcript's `bank_change` step: the bank changes while the caller is on
the line, as it does in real life — a biller switches its reference format or
stops receiving payments between the read-backs and the caller's final "1".

Only on a line whose bank this process holds (`ivr replay` on its own copy of
the demo bank, the transcript suite); never against a --target server, whose
bank is not ours to change. The change goes through the database, so the
billers' version triggers mark the bank's cached copy stale, exactly as an
operator's edit would (banking_core/billers.py).
"""
from __future__ import annotations

from sqlalchemy import select, update

from banking_core.models import Biller, BillerReference
from banking_core.money import parse_pesos

FIELDS = {"service", "active", "reference", "amount"}
REFERENCE_FIELDS = {"position", "length", "min_length", "max_length", "check_digit"}
CHECK_DIGITS = {"none", "luhn"}


class BankChangeError(ValueError):
    pass


def validate(value, where: str) -> dict:
    """The step's value, checked before any call is placed."""
    if not isinstance(value, dict) or not value.get("service"):
        raise BankChangeError(f"{where}: bank_change needs {{service: \"1411\", …}} and "
                              "what changes: active, reference")
    unknown = set(value) - FIELDS
    if unknown:
        raise BankChangeError(f"{where}: bank_change has unknown field(s) "
                              f"{', '.join(sorted(unknown))}; known: {', '.join(sorted(FIELDS))}")
    if not set(value) & {"active", "reference", "amount"}:
        raise BankChangeError(f"{where}: bank_change names no change (active, reference, "
                              "amount)")
    amount = value.get("amount")
    if amount is not None:
        if not isinstance(amount, dict) or set(amount) != {"min", "max"}:
            raise BankChangeError(f"{where}: bank_change.amount takes {{min: \"1.00\", "
                                  "max: \"500.00\"}")
        try:
            value = {**value, "amount": {k: parse_pesos(str(v)) for k, v in amount.items()}}
        except ValueError as exc:
            raise BankChangeError(f"{where}: bank_change.amount: {exc}") from None
    if "active" in value and not isinstance(value["active"], bool):
        raise BankChangeError(f"{where}: bank_change.active must be true or false")
    reference = value.get("reference")
    if reference is not None:
        if not isinstance(reference, dict) or set(reference) - REFERENCE_FIELDS:
            raise BankChangeError(f"{where}: bank_change.reference takes "
                                  f"{', '.join(sorted(REFERENCE_FIELDS))}")
        for name in ("position", "length", "min_length", "max_length"):
            if name in reference and (isinstance(reference[name], bool)
                                      or not isinstance(reference[name], int)
                                      or not 1 <= reference[name] <= 40):
                raise BankChangeError(f"{where}: bank_change.reference.{name} must be 1 to 40")
        if reference.get("check_digit", "none") not in CHECK_DIGITS:
            raise BankChangeError(f"{where}: bank_change.reference.check_digit must be one of "
                                  f"{', '.join(sorted(CHECK_DIGITS))}")
    return value


def apply(bank, change: dict) -> None:
    """Make the change in `bank`'s database, in one transaction."""
    key = str(change["service"])
    with bank.engine.begin() as connection:
        biller_id = connection.scalar(select(Biller.id).where(Biller.service_key == key))
        if biller_id is None:
            raise BankChangeError(f"bank_change: there is no service {key}")
        if "active" in change:
            connection.execute(update(Biller).where(Biller.id == biller_id)
                               .values(active=change["active"]))
        if "amount" in change:
            connection.execute(update(Biller).where(Biller.id == biller_id).values(
                amount_min_centavos=change["amount"]["min"],
                amount_max_centavos=change["amount"]["max"], amount_fixed_centavos=None))
        reference = change.get("reference")
        if reference:
            values = {}
            if "length" in reference:
                values.update(min_length=reference["length"], max_length=reference["length"])
            for name in ("min_length", "max_length", "check_digit"):
                if name in reference:
                    values[name] = reference[name]
            found = connection.execute(
                update(BillerReference)
                .where(BillerReference.biller_id == biller_id,
                       BillerReference.position == reference.get("position", 1))
                .values(**values)).rowcount
            if not found:
                raise BankChangeError(f"bank_change: service {key} has no reference "
                                      f"{reference.get('position', 1)}")
