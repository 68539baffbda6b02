"""How the worker POSTs a biller's webhook: HTTP with short timeouts (the core
decides what to send and what the answer means: banking_core/biller_notifications.py;
it knows nothing of HTTP clients)."""
from __future__ import annotations

import requests

CONNECT_TIMEOUT, READ_TIMEOUT = 3.0, 10.0


class HttpSender:
    """requests, redirects not followed (a 3xx is not a delivery), the
    answer's body never read; no answer within the timeouts raises."""

    def __init__(self, *, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT):
        self.timeout = (connect_timeout, read_timeout)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        with requests.post(url, data=body, headers=headers, timeout=self.timeout,
                           allow_redirects=False, stream=True) as response:
            return response.status_code
