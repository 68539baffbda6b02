"""The bank: accounts, billers, payments and the ledger. Knows nothing of HTTP.

Every channel (the phone line, the web page, the agent desk) calls the services
in `banking_core.services` with a unit of work and primitives, and turns the
`DomainError` codes it gets back into words.
"""
