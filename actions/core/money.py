"""Money and percentage formatting for phone-sized replies."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def D(value) -> Decimal:  # noqa: N802 - short, used everywhere
    if isinstance(value, Decimal):
        return value
    if value is None:
        return Decimal("0")
    return Decimal(str(value))


def yuan(value) -> str:
    """58.2万 for large amounts, 8,500元 for small ones."""
    v = D(value)
    if abs(v) >= 10000:
        wan = (v / 10000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        text = f"{wan:f}".rstrip("0").rstrip(".") if "." in f"{wan:f}" else f"{wan:f}"
        return f"{text}万"
    return f"{int(v.quantize(Decimal('1'), rounding=ROUND_HALF_UP)):,}元"


def pct_change(new, old) -> int | None:
    """Whole-percent change from old to new; None when old is zero."""
    old, new = D(old), D(new)
    if old == 0:
        return None
    return int(((new - old) * 100 / old).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def signed_pct(p: int | None) -> str:
    if p is None:
        return "—"
    return f"+{p}%" if p > 0 else f"{p}%"
