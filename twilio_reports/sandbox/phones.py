"""Deterministic address pools: E.164 numbers plus a few Client and SIP identifiers,
because real call logs mix all three and `To`/`From` filters must match them verbatim."""

from __future__ import annotations

from hashlib import blake2b

_US_AREAS = ("415", "212", "646", "312", "213", "617", "305", "206", "512", "720")
_CLIENTS = ("alice", "bob", "carol", "dave", "erin")
POOL_SIZE = 300


def customer_pool(seed: int, account_index: int, european: bool) -> tuple[str, ...]:
    pool: list[str] = []
    for k in range(POOL_SIZE):
        d = blake2b(f"{seed}:phone:{account_index}:{k}".encode(), digest_size=8).digest()
        digits = int.from_bytes(d[:4], "little")
        if d[4] < 12:
            pool.append(f"client:{_CLIENTS[d[5] % len(_CLIENTS)]}")
        elif d[4] < 20:
            pool.append(f"sip:{_CLIENTS[d[5] % len(_CLIENTS)]}@sandbox.sip.twilio.com")
        elif european and d[4] < 160:
            pool.append(f"+4915{digits % 10**8:08d}" if d[6] < 128 else f"+336{digits % 10**8:08d}")
        else:
            pool.append(f"+1{_US_AREAS[d[5] % len(_US_AREAS)]}555{digits % 10**4:04d}")
    return tuple(pool)


def formatted(number: str) -> str:
    """Twilio's `to_formatted`: `(415) 555-0100` for NANP numbers, else unchanged."""
    if number.startswith("+1") and len(number) == 12:
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def is_endpoint(address: str) -> bool:
    """Client and SIP legs are priced at the cheaper endpoint rate."""
    return address.startswith(("client:", "sip:"))
