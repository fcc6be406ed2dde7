"""The sandbox's fixed accounts: one main account and three subaccounts.

The SIDs and tokens are constants (not derived from the seed) so demos, docs and other
engineers' tests can hard-code them. They only ever unlock this sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import blake2b

MAIN_ACCOUNT_SID = "ACae0d0ffa55d14ba1f5394fd0772de1bb"
MAIN_AUTH_TOKEN = "9f0c4d86f324bac15104948c5eefb53b"  # noqa: S105 - sandbox-only demo value
MAIN_FRIENDLY_NAME = "Sandbox Main"

# (sid, auth_token, friendly_name) like the brief's SubAccount tuple.
SubAccount = tuple[str, str, str]
SUBACCOUNTS: tuple[SubAccount, ...] = (
    ("AC41dff0065ed455ac2f9d03dddf597497", "fe8289b3f2f5d21dde3c1c2c41588b67", "Sandbox Support"),
    ("AC485ba975e5e51232356692e849bbd48a", "8704011c216e526293cfc7a3888692b8", "Sandbox Europe"),
    # The archive subaccount has no traffic and no usage at all: its usage answers 404,
    # which is the "404 on a subaccount's usage" trap of the product brief.
    ("AC689a7f57aa38344f845b62e28c77f008", "c2274d931051d1cffc4e0f1df3d92bce", "Sandbox Archive"),
)

# An API key (SK... + secret) of the main account: Twilio accepts these as Basic auth too.
MAIN_API_KEY_SID = "SKdb6bcf6a2a36ee93dafa7dfcdc40973d"
MAIN_API_KEY_SECRET = "fd2be21e1d69b8ce0567b59c6d2bd610"  # noqa: S105 - sandbox-only


@dataclass(frozen=True)
class Account:
    index: int  # 0 = main; also the per-account salt of every generated series
    sid: str
    auth_token: str
    friendly_name: str
    currency: str  # ISO code as calls/messages send it ("USD"); usage sends it lower-case
    traffic_share: float  # share of the configured calls/messages/alerts volume
    created_days_ago: int
    phone_numbers: tuple[str, ...]
    # Crowd subaccounts (see crowd()) have a fixed daily volume instead of a share.
    calls_per_day: int = 0

    @property
    def is_main(self) -> bool:
        return self.index == 0


ACCOUNTS: tuple[Account, ...] = (
    Account(0, MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, MAIN_FRIENDLY_NAME, "USD", 0.5, 900,
            ("+14155550100", "+14155550101", "+18005550199")),
    Account(1, *SUBACCOUNTS[0], "USD", 0.3, 640, ("+12125550110", "+12125550111")),
    Account(2, *SUBACCOUNTS[1], "EUR", 0.2, 520, ("+442079460120", "+4930901820")),
    Account(3, *SUBACCOUNTS[2], "USD", 0.0, 460, ()),
)
ACCOUNTS_BY_SID: dict[str, Account] = {a.sid: a for a in ACCOUNTS}
MAIN = ACCOUNTS[0]


def split_volume(total: int, accounts: tuple[Account, ...] = ACCOUNTS) -> dict[str, int]:
    """Share `total` items among the fixed accounts; the main account takes the rounding
    rest so the sum is exactly `total`. Crowd accounts get nothing from it."""
    counts = {a.sid: int(total * a.traffic_share) for a in accounts
              if not a.is_main and not a.calls_per_day}
    counts[MAIN.sid] = total - sum(counts.values())
    return counts


QUIET_CALLS_PER_DAY, BUSY_CALLS_PER_DAY = 3, 500


def crowd(seed: int, n: int, busy_every: int = 100) -> tuple[Account, ...]:
    """`n` more subaccounts, as a real account with up to 1,000 of them has: most make a
    few calls a day, every `busy_every`-th one makes hundreds. SIDs and tokens come from the
    seed; names are "Crowd 0001"... (a knob for benchmarks: --subaccounts N)."""
    out = []
    for i in range(1, n + 1):
        digest = blake2b(f"{seed}:crowd:{i}".encode(), digest_size=32).hexdigest()
        busy = busy_every > 0 and i % busy_every == 0
        out.append(Account(3 + i, "AC" + digest[:32], digest[32:], f"Crowd {i:04d}", "USD",
                           0.0, 100 + i % 300, (f"+1650555{i:04d}",),
                           calls_per_day=BUSY_CALLS_PER_DAY if busy else QUIET_CALLS_PER_DAY))
    return tuple(out)
