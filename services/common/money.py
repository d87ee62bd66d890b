"""Money: integer amounts in a currency's minor unit plus an ISO 4217 code."""

from __future__ import annotations

from services.common.errors import FieldViolation

# ISO 4217 currencies we accept, with their minor-unit exponent (JPY has none, KWD three).
MINOR_UNIT_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        "AED AUD BDT BRL CAD CHF CNY CZK DKK EGP EUR GBP HKD HUF IDR ILS INR LKR MAD MXN MYR NGN NOK NPR NZD "
        "PEN PHP PKR PLN QAR RON SAR SEK SGD THB TRY TWD USD ZAR".split(),
        2,
    ),
    **dict.fromkeys("CLP ISK JPY KRW UGX VND XAF XOF".split(), 0),
    **dict.fromkeys("BHD JOD KWD OMR TND".split(), 3),
}


def minor_unit_exponent(currency: str) -> int:
    return MINOR_UNIT_EXPONENTS[currency]


def format_amount(amount: int, currency: str) -> str:
    """The amount as people read it: 1999 USD -> "19.99 USD", 500 JPY -> "500 JPY"."""
    exponent = minor_unit_exponent(currency)
    whole, fraction = divmod(amount, 10**exponent)
    return f"{whole:,}.{fraction:0{exponent}d} {currency}" if exponent else f"{whole:,} {currency}"


def amount_violations(amount: int, *, maximum: int, field: str = "amount") -> list[FieldViolation]:
    if amount <= 0:
        return [FieldViolation(field, "must be a positive integer in the currency's minor unit")]
    if amount > maximum:
        return [FieldViolation(field, f"must not exceed {maximum}")]
    return []


def currency_violations(currency: str, field: str = "currency") -> list[FieldViolation]:
    if not currency:
        return [FieldViolation(field, "is required")]
    if currency not in MINOR_UNIT_EXPONENTS:
        return [FieldViolation(field, f"{currency!r} is not a supported ISO 4217 currency (upper case)")]
    return []
