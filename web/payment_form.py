"""Reading the payment form: what the customer typed, as primitives for the core,
and an error per field (in their words) for whatever the core refuses.

The page keeps what was typed, so a correction never means retyping it all.
"""
from __future__ import annotations

import dataclasses
import re
import secrets

from banking_core import errors
from banking_core.catalog import Service
from banking_core.digits import int_or_none
from banking_core.money import parse_pesos
from web import messages

MAX_FIELD = 60  # longer than any reference or amount a biller takes
ACCOUNT_ID_DIGITS = 12  # far more accounts than the bank will ever have
_OPERATION = re.compile(r"^[0-9a-f]{32}$")


def posted_operation(form) -> str | None:
    """The payment's operation id as the form carries it (None if absent or not
    ours). Drawn when the blank form is shown and carried through the form, the
    review and the final submit as the idempotency key: a double click, a reload,
    or going back and submitting again reuses it, so the core posts once and
    returns the same receipt; a new payment starts a new form."""
    given = form.get("operacion", "")
    return given if _OPERATION.match(given) else None


def carried_operation(form) -> str:
    """The id to put in the next page's form: the one carried so far, or a new one."""
    return posted_operation(form) or secrets.token_hex(16)


@dataclasses.dataclass
class PaymentForm:
    service: Service
    references: list[str]
    account_id: str = ""
    amount: str = ""
    errors: dict[str, str] = dataclasses.field(default_factory=dict)

    # What the core receives once the form is valid.
    account: object = None
    selected_account_id: int | None = None
    amount_centavos: int | None = None
    checked_references: tuple[str, ...] = ()

    @classmethod
    def blank(cls, service: Service) -> "PaymentForm":
        return cls(service=service, references=[""] * len(service.references))

    @classmethod
    def from_request(cls, service: Service, form) -> "PaymentForm":
        return cls(
            service=service,
            references=[form.get(f"referencia{rule.position}", "").strip()[:MAX_FIELD]
                        for rule in service.references],
            account_id=form.get("cuenta", "").strip()[:MAX_FIELD],
            amount=form.get("importe", "").strip()[:MAX_FIELD],
        )

    @property
    def valid(self) -> bool:
        return not self.errors

    def validate(self, bank, principal) -> "PaymentForm":
        """Every field checked by the core's own rules; each error next to its field."""
        self.errors.clear()
        try:
            self.checked_references = self.service.check_references(self.references)
        except errors.InvalidReference as exc:
            self.errors[f"referencia{exc.position}"] = messages.reference_message(exc)
        self.account = None
        if not self._read_account_id():
            self.errors["cuenta"] = messages.SIMPLE["unknown_account"]
        else:
            try:
                self.account = bank.get_account(principal, self.selected_account_id)
            except (errors.AccountNotOwned, errors.UnknownAccount):
                # Not one of this session's accounts: a forged form (the core logs it).
                self.errors["cuenta"] = messages.SIMPLE["account_not_owned"]
        try:
            self.amount_centavos = self.service.check_amount(parse_pesos(self.amount))
        except ValueError:
            self.errors["importe"] = messages.SIMPLE["invalid_amount"]
        except errors.DomainError as exc:
            self.errors["importe"] = messages.amount_message(exc, self.service)
        if self.account is not None and self.amount_centavos is not None \
                and self.account.balance_centavos < self.amount_centavos:
            self.errors["importe"] = messages.SIMPLE["insufficient_funds"]
        return self

    def parse(self) -> bool:
        """Only the shape of the fields (an account id, an amount in pesos), for
        EJECUTAR: the core then checks everything else, and an exact repeat of
        a posted payment gets its receipt back even if, since, the balance
        fell below the amount."""
        self.errors.clear()
        if not self._read_account_id():
            self.errors["cuenta"] = messages.SIMPLE["unknown_account"]
        try:
            self.amount_centavos = parse_pesos(self.amount)
        except ValueError:
            self.errors["importe"] = messages.SIMPLE["invalid_amount"]
        return self.valid

    def _read_account_id(self) -> bool:
        """The account's id as the select sends it: digits 0-9 only (int() would
        read "１" or "١" as 1, and "²" would raise: a 500)."""
        self.selected_account_id = int_or_none(self.account_id, max_length=ACCOUNT_ID_DIGITS)
        return self.selected_account_id is not None

    def refuse(self, exc: errors.DomainError) -> None:
        """A refusal from posting, put next to the field it concerns."""
        if isinstance(exc, errors.InvalidReference):
            self.errors[f"referencia{exc.position}"] = messages.reference_message(exc)
        elif isinstance(exc, (errors.AccountNotOwned, errors.UnknownAccount)):
            self.errors["cuenta"] = messages.message(exc)
        elif isinstance(exc, (errors.InsufficientFunds, errors.OverDailyLimit,
                              errors.AmountOutOfRange, errors.InvalidAmount)):
            self.errors["importe"] = messages.amount_message(exc, self.service)
        else:
            self.errors["form"] = messages.message(exc)
