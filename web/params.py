"""The one parser of whole numbers typed into forms and query strings (ids, page numbers)."""

# 18 digits always fit a bigint primary key; page and version numbers use fewer.
MAX_DIGITS = 18


def whole_number(raw: str | None, *, max_digits: int = MAX_DIGITS) -> int | None:
    """`raw` as a non-negative int, or None when it is not plain ASCII digits (at most
    `max_digits` of them). isascii: "²" and "٣" are digits to str.isdigit() but not to int()."""
    text = (raw or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= max_digits:
        return int(text)
    return None
