"""The bank-file format (`ivr bank load FILE.yaml`), as validated schemas.

Documented with examples in docs/bank-file.md. Amounts are written in pesos as
strings or integers ("25000.00", 25000); never as YAML floats, which cannot hold
centavos exactly.
"""
from __future__ import annotations

import datetime as dt
from typing import Literal, Optional

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from banking_core import biller_keys
from banking_core.catalog import MAX_REFERENCES
from banking_core.checkdigits import REFERENCE_RULES, clabe_is_valid, luhn_is_valid, \
    reference_rule_problem
from banking_core.digits import is_ascii_digits
from banking_core.money import parse_pesos


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def pesos(value) -> int:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("write amounts as text such as \"349.50\" (a YAML float loses centavos)")
    if isinstance(value, int):
        return value * 100
    return parse_pesos(str(value))


def digits(value, length: int, what: str) -> str:
    text = str(value)
    if not is_ascii_digits(text, length=length):
        raise ValueError(f"{what} must be exactly {length} digits (quote it to keep leading zeros)")
    return text


def service_key(value) -> str:
    text = str(value)
    if not is_ascii_digits(text, max_length=8):
        raise ValueError("a service key is 1 to 8 digits")
    return str(int(text))


def nip(value) -> str:
    return digits(value, 4, "a NIP")


class CardSpec(Strict):
    number: str
    nip: str

    @field_validator("number", mode="before")
    @classmethod
    def _card(cls, v):
        text = digits(v, 16, "a card number")
        if not luhn_is_valid(text):
            raise ValueError("the card number fails the Luhn check")
        return text

    _nip = field_validator("nip", mode="before")(lambda cls, v: nip(v))


class AccessKeySpec(Strict):
    number: str
    nip: str

    _number = field_validator("number", mode="before")(
        lambda cls, v: digits(v, 8, "an access key"))
    _nip = field_validator("nip", mode="before")(lambda cls, v: nip(v))


class LimitsSpec(Strict):
    phone: Optional[int] = None
    web: Optional[int] = None
    agent: Optional[int] = None

    _pesos = field_validator("phone", "web", "agent", mode="before")(
        lambda cls, v: None if v is None else pesos(v))


class AccountSpec(Strict):
    number: str
    kind: Literal["cheques", "ahorro", "nomina"]
    balance: int = 0
    clabe: Optional[str] = None
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    card: Optional[CardSpec] = None
    login_nip: Optional[str] = None  # lets the customer log in with this account number

    _number = field_validator("number", mode="before")(
        lambda cls, v: digits(v, 10, "an account number"))
    _balance = field_validator("balance", mode="before")(lambda cls, v: pesos(v))
    _login_nip = field_validator("login_nip", mode="before")(
        lambda cls, v: None if v is None else nip(v))

    @field_validator("balance")
    @classmethod
    def _not_negative(cls, v):
        if v < 0:
            raise ValueError("an opening balance cannot be negative")
        return v

    @field_validator("clabe", mode="before")
    @classmethod
    def _clabe(cls, v):
        if v is None:
            return None
        text = str(v)
        if not clabe_is_valid(text):
            raise ValueError("the CLABE must be 18 digits with a valid check digit")
        return text


class BilledSpec(Strict):
    ceiling: int

    _pesos = field_validator("ceiling", mode="before")(lambda cls, v: pesos(v))


class DomiciliationSpec(Strict):
    """A monthly charge (docs/domiciliacion.md): a fixed `amount`, or `billed`
    (the biller's bill of each month) up to its ceiling."""
    service_key: str
    references: list[str] = Field(min_length=1, max_length=MAX_REFERENCES)
    account: str  # one of this customer's account numbers
    amount: Optional[int] = None
    billed: Optional[BilledSpec] = None
    day: int = Field(ge=1, le=31)
    start: dt.date
    end: Optional[dt.date] = None

    _key = field_validator("service_key", mode="before")(lambda cls, v: service_key(v))
    _account = field_validator("account", mode="before")(
        lambda cls, v: digits(v, 10, "an account number"))
    _amount = field_validator("amount", mode="before")(
        lambda cls, v: None if v is None else pesos(v))
    _references = field_validator("references", mode="before")(
        lambda cls, v: [str(r) for r in v] if isinstance(v, list) else v)

    @model_validator(mode="after")
    def _rule(self):
        if (self.amount is None) == (self.billed is None):
            raise ValueError("give either amount (fixed) or billed: {ceiling: ...}")
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class CustomerSpec(Strict):
    name: str = Field(min_length=1, max_length=120)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    phone: Optional[str] = None
    access_key: Optional[AccessKeySpec] = None
    accounts: list[AccountSpec] = Field(min_length=1)
    domiciliations: list[DomiciliationSpec] = Field(default_factory=list)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v):
        if v is None:
            return None
        try:
            parsed = phonenumbers.parse(str(v), "MX")
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"not a phone number: {exc}") from None
        if not phonenumbers.is_valid_number(parsed):
            raise ValueError("not a valid phone number")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class ReferenceSpec(Strict):
    label: str = Field(min_length=1, max_length=60)
    # What the phone line says instead of the label ("Periodo (MMAA)" is for a screen).
    spoken_label: Optional[str] = Field(default=None, min_length=1, max_length=120)
    charset: Literal["numeric", "alphanumeric"] = "numeric"
    length: Optional[int] = Field(default=None, ge=1, le=40)
    min_length: Optional[int] = Field(default=None, ge=1, le=40)
    max_length: Optional[int] = Field(default=None, ge=1, le=40)
    check_digit: str = "none"

    @field_validator("check_digit")
    @classmethod
    def _rule(cls, v):
        if v not in REFERENCE_RULES:
            raise ValueError(f"unknown check-digit rule; known: {', '.join(sorted(REFERENCE_RULES))}")
        return v

    @model_validator(mode="after")
    def _lengths(self):
        if self.length is not None:
            if self.min_length is not None or self.max_length is not None:
                raise ValueError("give either length or min_length/max_length, not both")
            self.min_length = self.max_length = self.length
        if self.max_length is None:
            raise ValueError("give length, or max_length (and optionally min_length)")
        if self.min_length is None:
            self.min_length = 1
        if self.min_length > self.max_length:
            raise ValueError("min_length is greater than max_length")
        # The same combinations the database refuses (models.BillerReference).
        problem = reference_rule_problem(self.check_digit, self.charset, self.max_length)
        if problem:
            raise ValueError(problem)
        return self


class AmountSpec(Strict):
    min: Optional[int] = None
    max: Optional[int] = None
    fixed: Optional[int] = None

    _pesos = field_validator("min", "max", "fixed", mode="before")(
        lambda cls, v: None if v is None else pesos(v))

    @model_validator(mode="after")
    def _rule(self):
        if self.fixed is not None:
            if self.min is not None or self.max is not None:
                raise ValueError("give either fixed or min/max, not both")
            if self.fixed <= 0:
                raise ValueError("fixed must be positive")
        else:
            if self.min is None or self.max is None:
                raise ValueError("give fixed, or both min and max")
            if not 0 < self.min <= self.max:
                raise ValueError("need 0 < min <= max")
        return self


class BillerKeySpec(Strict):
    key_id: str
    secret: str

    _key_id = field_validator("key_id")(lambda cls, v: biller_keys.check_key_id(v))
    _secret = field_validator("secret")(lambda cls, v: biller_keys.check_secret(v))


class BillerSpec(Strict):
    service_key: str
    name: str = Field(min_length=1, max_length=120)
    active: bool = True
    amount: AmountSpec
    references: list[ReferenceSpec] = Field(min_length=1, max_length=MAX_REFERENCES)
    # The biller's side (issue 16): signing secrets, where payments are
    # announced, where its checkout may send customers back to.
    keys: list[BillerKeySpec] = Field(default_factory=list)
    notification_url: Optional[str] = None
    return_origins: list[str] = Field(default_factory=list)

    _url = field_validator("notification_url")(
        lambda cls, v: None if v is None else biller_keys.check_url(v, what="notification_url"))

    @field_validator("return_origins")
    @classmethod
    def _origins(cls, v):
        for origin in v:
            if biller_keys.origin_of(origin) != origin:
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], "
                                 "lower case, nothing after)")
        return v

    _key = field_validator("service_key", mode="before")(lambda cls, v: service_key(v))


class AgentSpec(Strict):
    username: str = Field(pattern=r"^[a-z0-9._-]{3,40}$")
    name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=8)
    role: Literal["agent", "supervisor"] = "agent"


class BankFile(Strict):
    billers: list[BillerSpec] = Field(default_factory=list)
    customers: list[CustomerSpec] = Field(default_factory=list)
    agents: list[AgentSpec] = Field(default_factory=list)
