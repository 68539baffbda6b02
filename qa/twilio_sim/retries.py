"""How Twilio retries a webhook it could not reach, after its documentation:
"Webhooks (HTTP callbacks): Connection Overrides",
https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides.

- Retry count (`rc`, 0-5, default 1): "the number of retry attempts Twilio will
  make if its connection to your webhook fails"; the retry policy (`rp`: 4xx,
  5xx, ct, rt, all) says which failures count. Modelled by default: a
  connection that fails or breaks before an answer (refused, reset, a worker
  killed mid-request) is tried once more; a non-2xx answer and a read timeout
  are not, unless the URL's `rp` names them.
- Total time (`tt`, default and maximum 15,000 ms): "the total time allowed for
  all timeouts including retries"; read timeout (`rt`, default 15,000 ms).
- The overrides ride in the URL's fragment (`#rc=2&rp=ct,5xx`), which is
  never sent to the app (nor signed here).
"""
from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, urldefrag

from qa.twilio_sim.heard import CallError

DEFAULT_RETRIES = 1
DEFAULT_POLICY = frozenset({"ct"})
MAX_TOTAL_SECONDS = 15.0


class ConnectionFailed(CallError):
    """No HTTP answer came back: the connection was refused, reset or closed."""


@dataclasses.dataclass(frozen=True)
class Overrides:
    retries: int = DEFAULT_RETRIES
    policy: frozenset = DEFAULT_POLICY
    total_seconds: float = MAX_TOTAL_SECONDS

    def retries_failure(self, *, status: int | None) -> bool:
        """Whether this policy retries a failed attempt (`status` None: the
        connection failed)."""
        if "all" in self.policy:
            return True
        if status is None:
            return "ct" in self.policy
        return f"{status // 100}xx" in self.policy


def split_overrides(url: str) -> tuple[str, Overrides]:
    """The URL Twilio requests, and the connection overrides in its fragment."""
    bare, fragment = urldefrag(url)
    given = dict(parse_qsl(fragment))
    try:
        retries = min(5, max(0, int(given.get("rc", DEFAULT_RETRIES))))
        total = min(MAX_TOTAL_SECONDS, int(given["tt"]) / 1000) if "tt" in given \
            else MAX_TOTAL_SECONDS
    except ValueError:
        raise CallError(f"{url}: invalid connection overrides") from None
    policy = frozenset(given["rp"].split(",")) if "rp" in given else DEFAULT_POLICY
    return bare, Overrides(retries=retries, policy=policy, total_seconds=total)
