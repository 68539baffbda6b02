"""Unit of work: `with uow: ...; uow.commit()`; leaving the block rolls back
whatever was not committed."""
from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    session: Session

    def __init__(self, session_factory: sessionmaker):
        self._session_factory = session_factory

    def __enter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        return self

    def __exit__(self, *exc_info) -> None:
        # close() rolls back whatever was not committed, like rollback() would,
        # but leaves objects already read usable (rollback() expires them).
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
