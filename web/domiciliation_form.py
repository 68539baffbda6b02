"""Reading the domiciliation form (Conexión Personal and the desk): what was
typed, as a request for the core, and an error per field, in the customer's
words, for whatever the core refuses. The page keeps what was typed."""
from __future__ import annotations

import dataclasses
import datetime as dt

from banking_core import errors
from banking_core.catalog import Service
from banking_core.digits import int_or_none
from banking_core.domiciliations import DomiciliationRequest
from banking_core.money import parse_pesos
from web import messages
from web.payment_form import ACCOUNT_ID_DIGITS, MAX_FIELD

# The form's words for the core's amount modes.
MODES = {"fijo": "fixed", "facturado": "billed"}


@dataclasses.dataclass
class DomiciliationForm:
    service: Service
    references: list[str]
    account_id: str = ""
    mode: str = "fijo"  # fijo | facturado
    amount: str = ""
    ceiling: str = ""
    day: str = ""
    start: str = ""
    end: str = ""
    errors: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def blank(cls, service: Service, today: dt.date) -> "DomiciliationForm":
        return cls(service=service, references=[""] * len(service.references),
                   start=today.isoformat())

    @classmethod
    def from_request(cls, service: Service, form) -> "DomiciliationForm":
        def field(name):
            return form.get(name, "").strip()[:MAX_FIELD]
        return cls(service=service,
                   references=[field(f"referencia{r.position}") for r in service.references],
                   account_id=field("cuenta"), mode=field("modo"), amount=field("importe"),
                   ceiling=field("tope"), day=field("dia"), start=field("inicio"),
                   end=field("fin"))

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_request(self) -> DomiciliationRequest | None:
        """The request for the core, or None with an error next to each field
        whose shape is wrong (the core checks the rest)."""
        self.errors.clear()
        account_id = int_or_none(self.account_id, max_length=ACCOUNT_ID_DIGITS)
        if account_id is None:
            self.errors["cuenta"] = messages.SIMPLE["unknown_account"]
        mode = MODES.get(self.mode)
        if mode is None:
            self.errors["modo"] = ("Elija si el cargo es por un importe fijo o por lo que "
                                   "facture el servicio.")
        amount = self._pesos("importe", self.amount) if mode == "fixed" else None
        ceiling = self._pesos("tope", self.ceiling) if mode == "billed" else None
        day = int_or_none(self.day, max_length=2)
        if day is None:
            self.errors["dia"] = messages.SCHEDULE_REASONS["not_a_day"]
        start = self._date("inicio", self.start, required=True)
        end = self._date("fin", self.end, required=False)
        if self.errors:
            return None
        return DomiciliationRequest(
            service_key=self.service.service_key, references=tuple(self.references),
            account_id=account_id, amount_mode=mode, amount_centavos=amount,
            ceiling_centavos=ceiling, day_of_month=day, start_date=start, end_date=end)

    def _pesos(self, name: str, text: str) -> int | None:
        try:
            return parse_pesos(text)
        except ValueError:
            self.errors[name] = messages.SIMPLE["invalid_amount"]
            return None

    def _date(self, name: str, text: str, *, required: bool) -> dt.date | None:
        if not text and not required:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.errors[name] = "Escriba una fecha válida, por ejemplo 2027-01-31."
            return None

    def refuse(self, exc: errors.DomainError) -> None:
        """A refusal from the core, put next to the field it concerns."""
        if isinstance(exc, errors.InvalidReference):
            self.errors[f"referencia{exc.position}"] = messages.reference_message(exc)
        elif isinstance(exc, (errors.AccountNotOwned, errors.UnknownAccount)):
            self.errors["cuenta"] = messages.message(exc)
        elif isinstance(exc, (errors.AmountOutOfRange, errors.InvalidAmount)):
            field = "tope" if MODES.get(self.mode) == "billed" else "importe"
            self.errors[field] = messages.amount_message(exc, self.service)
        elif isinstance(exc, errors.InvalidSchedule):
            field = {"day": "dia", "start": "inicio", "end": "fin"}[exc.details["field"]]
            self.errors[field] = messages.SCHEDULE_REASONS[exc.details["reason"]]
        else:
            self.errors["form"] = messages.message(exc)
