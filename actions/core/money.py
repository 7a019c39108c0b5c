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
        places = Decimal("0.1") if abs(v) >= 1_000_000 or abs(v) >= 100_000 else Decimal("0.01")
        wan = (v / 10000).quantize(places, rounding=ROUND_HALF_UP)
        text = f"{wan:f}".rstrip("0").rstrip(".")
        return f"{text}万"
    return f"{int(v.quantize(Decimal('1'), rounding=ROUND_HALF_UP)):,}元"


def pct_change(new, old) -> int | None:
    """Whole-percent change from old to new; None when old is zero."""
    old, new = D(old), D(new)
    if old == 0:
        return None
    return int(((new - old) * 100 / old).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def signed_pct(p) -> str:
    if p is None:
        return "—"
    text = f"{p:g}" if isinstance(p, float) else str(p)
    return f"+{text}%" if p > 0 else f"{text}%"


def share_pct(part, whole) -> float | int | None:
    """part as a percentage of whole: one decimal under 1%, whole percent otherwise."""
    part, whole = D(part), D(whole)
    if whole == 0:
        return None
    value = part * 100 / whole
    if abs(value) < 1:
        return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
