"""Plain values the core hands to channels (no ORM objects leak out)."""
from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is acting, and which accounts this session may touch.

    A customer who logged in with the access key sees all their accounts; one
    who logged in with a card or an account number sees only that account.
    """

    customer_id: int
    customer_name: str
    method: str  # access_key | card | account | agent_verified
    account_ids: frozenset[int]
    credential_id: int | None = None

    def may_use(self, account_id: int) -> bool:
        return account_id in self.account_ids


@dataclasses.dataclass(frozen=True)
class AccountView:
    id: int
    number: str
    kind: str
    balance_centavos: int
    clabe: str | None

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def masked_number(self) -> str:
        return "*" * (len(self.number) - 4) + self.last4


@dataclasses.dataclass(frozen=True)
class LedgerAccount:
    """An account as the operators list it: its balance as the ledger sums it."""
    number: str
    kind: str
    balance_centavos: int
    clabe: str | None
    owner: str


@dataclasses.dataclass(frozen=True)
class Receipt:
    folio: str
    channel: str
    amount_centavos: int
    posted_at: dt.datetime  # UTC
    local_posted_at: dt.datetime  # in the bank's time zone
    service_key: str
    service_name: str
    references: tuple[str, ...]
    account_last4: str
    customer_id: int
    agent_id: int | None = None
    replayed: bool = False  # True when an idempotent retry returned the first result
