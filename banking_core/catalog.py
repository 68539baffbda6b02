"""Services (billers) as plain values, and the rules every channel applies to them.

The rules here are pure functions of a `Service`: the phone, the web page and
the agent desk all validate a reference or an amount by calling these, so a
reference valid on one channel is valid on all of them.
"""
from __future__ import annotations

import dataclasses

from banking_core import errors
from banking_core.checkdigits import REFERENCE_RULES
from banking_core.digits import is_ascii_alphanumeric, is_ascii_digits
from banking_core.money import format_mxn

MAX_REFERENCES = 3


@dataclasses.dataclass(frozen=True)
class ReferenceRule:
    position: int
    label: str
    charset: str  # "numeric" | "alphanumeric"
    min_length: int
    max_length: int
    check_digit: str = "none"
    # What the phone line says for it; the label (for screens) when None.
    spoken_label: str | None = None

    @property
    def said_label(self) -> str:
        return self.spoken_label or self.label

    @property
    def is_numeric(self) -> bool:
        return self.charset == "numeric"

    def normalize(self, value: str) -> str:
        # Spaces and dashes are how people write long references on paper;
        # they are never part of the reference. Letters are compared upper-case.
        # Upper-casing only ASCII letters: str.upper() turns "ß" into "SS" and
        # "ﬁ" into "FI", making a reference out of what was never typed.
        text = str(value)
        if text.isascii():
            # The same result in three C calls, not a Python step per
            # character: this runs twice on every payment.
            return text.replace(" ", "").replace("-", "").upper()
        return "".join(ch.upper() if ch.isascii() else ch for ch in text if ch not in " -")

    def check(self, value: str) -> str:
        """The normalized reference, or InvalidReference saying why not."""
        ref = self.normalize(value)

        def fail(reason: str, message: str):
            raise errors.InvalidReference(
                f"{self.label}: {message}", position=self.position, reason=reason,
                label=self.label,
            )

        if not ref:
            fail("missing", "is required")
        # A biller matches references byte for byte: "１２３" or "12²" can never
        # be found on its side, so only 0-9 (and A-Z) are references.
        if self.is_numeric and not is_ascii_digits(ref):
            fail("not_numeric", "must contain digits only")
        if not self.is_numeric and not is_ascii_alphanumeric(ref):
            fail("bad_characters", "must contain only letters and digits")
        if len(ref) < self.min_length:
            fail("too_short", f"must have at least {self.min_length} characters")
        if len(ref) > self.max_length:
            fail("too_long", f"must have at most {self.max_length} characters")
        if not REFERENCE_RULES[self.check_digit](ref):
            fail("bad_check_digit", "the check digit does not match")
        return ref


@dataclasses.dataclass(frozen=True)
class AmountRule:
    min_centavos: int | None = None
    max_centavos: int | None = None
    fixed_centavos: int | None = None

    def check(self, centavos: int) -> int:
        if isinstance(centavos, bool) or not isinstance(centavos, int):
            raise errors.InvalidAmount("the amount must be a whole number of centavos")
        if centavos <= 0:
            raise errors.InvalidAmount("the amount must be greater than zero")
        if self.fixed_centavos is not None:
            if centavos != self.fixed_centavos:
                raise errors.AmountOutOfRange(
                    f"this service only accepts {format_mxn(self.fixed_centavos)}",
                    fixed=self.fixed_centavos,
                )
        elif not self.min_centavos <= centavos <= self.max_centavos:
            raise errors.AmountOutOfRange(
                f"the amount must be between {format_mxn(self.min_centavos)} "
                f"and {format_mxn(self.max_centavos)}",
                min=self.min_centavos, max=self.max_centavos,
            )
        return centavos


@dataclasses.dataclass(frozen=True)
class Service:
    id: int
    service_key: str
    name: str
    active: bool
    collection_account_id: int
    references: tuple[ReferenceRule, ...]
    amount_rule: AmountRule
    version: int = 1

    @property
    def has_alphanumeric_reference(self) -> bool:
        return any(not r.is_numeric for r in self.references)

    def check_references(self, values) -> tuple[str, ...]:
        """All references normalized, or InvalidReference naming the first bad one."""
        values = list(values)
        if len(values) > len(self.references):
            raise errors.InvalidReference(
                f"this service takes {len(self.references)} reference(s)",
                position=len(self.references) + 1, reason="unexpected", label="",
            )
        checked = []
        for index, rule in enumerate(self.references):
            checked.append(rule.check(values[index] if index < len(values) else ""))
        return tuple(checked)

    def check_amount(self, centavos: int) -> int:
        return self.amount_rule.check(centavos)

    def require_active(self) -> "Service":
        if not self.active:
            raise errors.ServiceInactive(
                f"service {self.service_key} is not accepting payments",
                service_key=self.service_key,
            )
        return self


def normalize_service_key(text: str) -> str:
    key = str(text).strip()
    if not is_ascii_digits(key, max_length=8):
        raise errors.UnknownService(
            f"{text!r} is not a service key (1 to 8 digits)", service_key=str(text)[:20]
        )
    # Leading zeros are not significant in a clave de servicio ("0025" is 25).
    return str(int(key))
