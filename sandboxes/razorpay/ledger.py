"""Razorpay's business rules: orders, payments, captures and refunds.

Every function here is synchronous and does its checks and writes in one step (see
``store``), validates its input like Razorpay (``RazorpayError`` with the right body) and
reports what happened through ``Account.emit`` (webhook events).

Validation choices (documented deviations are marked *):

- ``amount`` is an integer in minor units (a string of digits is accepted, like Razorpay);
  an order needs at least 100 (Razorpay's INR 1.00 minimum, applied to every currency*);
  a refund at least 1.
- ``currency`` is any three upper-case letters*; ``receipt`` at most 40 characters;
  ``notes`` an object of at most 15 keys. Unknown request fields are ignored*.
- A payment must carry the order's amount and currency; ``/v1/payments/create/recurring``
  requires ``token``; ``email``/``contact`` are recorded but not required*.
- Capture needs ``amount`` (equal to the authorized amount) and ``currency``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from typing import Any

from .errors import BAD_REQUEST_ERROR, RazorpayError, bad_request, not_found, validation_error
from .models import Notes, Order, Payment, Refund
from .store import Account, now
from .tokens import AUTHENTICATION_FAILED, TOKEN_PREFIX, Decline, outcome_for

MIN_ORDER_AMOUNT = 100
MAX_RECEIPT_LENGTH = 40
MAX_NOTES = 15
REFUND_SPEEDS = ("normal", "optimum")
ORDER_ALREADY_PAID = "Order has been already paid"
_CURRENCY = re.compile(r"[A-Z]{3}")

Body = dict[str, Any]


# -- input helpers


def _int(body: Body, name: str, *, required: bool) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise validation_error(f"The {name} field is required.", name)
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation_error(f"The {name} must be an integer.", name)
    return value


def _str(body: Body, name: str, *, max_length: int | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise validation_error(f"The {name} must be a string.", name)
    text = str(value)
    if max_length is not None and len(text) > max_length:
        raise validation_error(f"The {name} may not be greater than {max_length} characters.", name)
    return text


def _notes(body: Body) -> Notes:
    notes = body.get("notes")
    if notes is None or notes == []:
        return {}
    if not isinstance(notes, dict):
        raise validation_error("The notes must be an object.", "notes")
    if len(notes) > MAX_NOTES:
        raise validation_error(f"Number of fields in notes should be less than or equal to {MAX_NOTES}", "notes")
    return dict(notes)


def _flag(body: Body, name: str, *, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if value in (1, "1", True, "true"):
        return True
    if value in (0, "0", False, "false"):
        return False
    raise validation_error(f"The {name} field is invalid.", name)


def _currency(body: Body, *, default: str | None = None) -> str:
    currency = body.get("currency", default)
    if currency is None:
        raise validation_error("The currency field is required.", "currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise validation_error("The currency must be a 3-letter ISO 4217 code in upper case.", "currency")
    return currency


def payment_signature(order_id: str, payment_id: str, key_secret: str) -> str:
    """Razorpay's ``razorpay_signature``: hex HMAC-SHA256 of ``"<order_id>|<payment_id>"``."""
    message = f"{order_id}|{payment_id}".encode()
    return hmac.new(key_secret.encode(), message, hashlib.sha256).hexdigest()


# -- orders


def create_order(account: Account, body: Body) -> Order:
    amount = _int(body, "amount", required=True)
    assert amount is not None
    currency = _currency(body)
    if amount < MIN_ORDER_AMOUNT:
        raise validation_error(f"The amount must be atleast {currency} 1.00", "amount")
    order = Order(
        id=account.new_order_id(),
        amount=amount,
        currency=currency,
        receipt=_str(body, "receipt", max_length=MAX_RECEIPT_LENGTH),
        notes=_notes(body),
        payment_capture=_flag(body, "payment_capture", default=True),
        created_at=now(),
    )
    account.add_order(order)
    return order


# -- payments


def create_payment(
    account: Account,
    body: Body,
    *,
    require_token: bool,
    key_secret: str,
    authenticate_url: Callable[[str], str],
) -> Body:
    """A payment on an order with a saved token (or card details); answers like Razorpay S2S.

    Success: ``{"razorpay_payment_id", "razorpay_order_id", "razorpay_signature"}``; needs
    authentication: ``{"razorpay_payment_id", "next": [{"action": "redirect", "url"}]}``;
    decline: raises the decline error (the failed payment is recorded on the order).
    """
    order_id = _str(body, "order_id")
    if order_id is None:
        raise validation_error("The order_id field is required.", "order_id")
    order = account.order(order_id, field="order_id")
    amount = _int(body, "amount", required=True)
    if amount != order.amount:
        raise validation_error("The amount must be equal to the order amount.", "amount")
    currency = _currency(body, default=order.currency)
    if currency != order.currency:
        raise validation_error("Currency should be same as order currency.", "currency")
    token = _str(body, "token")
    if token is None and require_token:
        raise validation_error("The token field is required.", "token")
    if token is not None and not token.startswith(TOKEN_PREFIX):
        raise not_found("token")
    notes = _notes(body)
    if order.settled_payment_id is not None:
        raise bad_request(ORDER_ALREADY_PAID, metadata={"order_id": order.id})

    payment_id = account.new_payment_id()
    payment = Payment(
        id=payment_id,
        order_id=order.id,
        amount=order.amount,
        currency=order.currency,
        method=_str(body, "method") or "card",
        email=_str(body, "email"),
        contact=_str(body, "contact"),
        customer_id=_str(body, "customer_id"),
        token_id=token,
        description=_str(body, "description"),
        notes=notes,
        created_at=now(),
        signature=payment_signature(order.id, payment_id, key_secret),
        callback_url=_str(body, "callback_url"),
    )
    account.add_payment(payment)
    order.payment_ids.append(payment.id)
    order.attempts += 1
    if order.status == "created":
        account.set_order_status(order, "attempted")

    outcome = outcome_for(token, three_d_secure=_str(body, "auth_type") == "3ds")
    if outcome == "action_required":
        return {
            "razorpay_payment_id": payment.id,
            "next": [{"action": "redirect", "url": authenticate_url(payment.id)}],
        }
    if isinstance(outcome, Decline):
        _fail(account, payment, outcome)
        raise decline_error(payment, outcome)
    _authorize(account, order, payment)
    return success_answer(payment)


def success_answer(payment: Payment) -> Body:
    return {
        "razorpay_payment_id": payment.id,
        "razorpay_order_id": payment.order_id,
        "razorpay_signature": payment.signature,
    }


def decline_error(payment: Payment, decline: Decline) -> RazorpayError:
    return RazorpayError(
        decline.status,
        decline.description,
        code=decline.code,
        source=decline.source,
        step=decline.step,
        reason=decline.reason,
        metadata={"payment_id": payment.id, "order_id": payment.order_id},
    )


def complete_payment(account: Account, payment: Payment, *, success: bool) -> Payment:
    """Finish a payment waiting for authentication (the sandbox's stand-in for 3-D Secure)."""
    if payment.status != "created":
        raise bad_request(f"Only a payment in created state can be completed; it is {payment.status}")
    order = account.orders[payment.order_id]
    if not success:
        _fail(account, payment, AUTHENTICATION_FAILED)
    elif order.settled_payment_id is not None:
        already_paid = Decline(400, BAD_REQUEST_ERROR, "payment_failed", ORDER_ALREADY_PAID, "business")
        _fail(account, payment, already_paid)
    else:
        _authorize(account, order, payment)
    return payment


def capture_payment(account: Account, payment: Payment, body: Body) -> Payment:
    amount = _int(body, "amount", required=True)
    currency = _currency(body)
    if payment.captured:
        raise bad_request("This payment has already been captured")
    if payment.status != "authorized":
        raise bad_request("Only payments which have been authorized and not yet captured can be captured")
    if amount != payment.amount:
        raise validation_error("Capture amount must be equal to the amount authorized", "amount")
    if currency != payment.currency:
        raise validation_error("Currency should be same as payment currency", "currency")
    _capture(account, account.orders[payment.order_id], payment)
    return payment


def _authorize(account: Account, order: Order, payment: Payment) -> None:
    account.set_payment_status(payment, "authorized")
    order.settled_payment_id = payment.id
    account.emit("payment.authorized", {"payment": payment.to_json()})
    if order.payment_capture:
        _capture(account, order, payment)


def _capture(account: Account, order: Order, payment: Payment) -> None:
    account.set_payment_status(payment, "captured")
    payment.captured = True
    order.amount_paid = payment.amount
    account.set_order_status(order, "paid")
    account.amount_captured += payment.amount
    account.emit("payment.captured", {"payment": payment.to_json()})
    account.emit("order.paid", {"payment": payment.to_json(), "order": order.to_json()})


def _fail(account: Account, payment: Payment, decline: Decline) -> None:
    account.set_payment_status(payment, "failed")
    payment.error_code = decline.code
    payment.error_description = decline.description
    payment.error_source = decline.source
    payment.error_step = decline.step
    payment.error_reason = decline.reason
    account.emit("payment.failed", {"payment": payment.to_json()})


# -- refunds


def refund_fingerprint(payment_id: str, body: Body) -> str:
    """What "the same request" means for ``X-Refund-Idempotency``: same payment, same body."""
    canonical = json.dumps([payment_id, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_refund(account: Account, payment: Payment, body: Body, *, pending: bool) -> Refund:
    amount = _int(body, "amount", required=False)
    if amount is not None and amount < 1:
        raise validation_error("The amount must be at least 1.", "amount")
    speed = _str(body, "speed") or "normal"
    if speed not in REFUND_SPEEDS:
        raise validation_error("The selected speed is invalid.", "speed")
    receipt = _str(body, "receipt", max_length=MAX_RECEIPT_LENGTH)
    notes = _notes(body)
    if not payment.captured:
        raise bad_request("The payment has not been captured")
    remaining = payment.amount - payment.amount_refunded
    if remaining <= 0:
        raise bad_request("The payment has been fully refunded already")
    if amount is None:
        amount = remaining
    if amount > remaining:
        raise validation_error("The refund amount provided is greater than amount captured", "amount")

    refund = Refund(
        id=account.new_refund_id(),
        payment_id=payment.id,
        amount=amount,
        currency=payment.currency,
        notes=notes,
        receipt=receipt,
        speed_requested=speed,
        created_at=now(),
        status="pending" if pending else "processed",
    )
    account.add_refund(refund)
    payment.refund_ids.append(refund.id)
    _move_refunded(account, payment, amount)
    account.emit("refund.created", {"refund": refund.to_json(), "payment": payment.to_json()})
    if not pending:
        account.emit("refund.processed", {"refund": refund.to_json(), "payment": payment.to_json()})
    return refund


def settle_refund(account: Account, refund: Refund, *, processed: bool) -> Refund:
    """Finish a ``pending`` refund: ``processed``, or ``failed`` (its amount is given back)."""
    if refund.status != "pending":
        raise bad_request(f"Only a pending refund can be settled; it is {refund.status}")
    payment = account.payments[refund.payment_id]
    if processed:
        account.set_refund_status(refund, "processed")
        account.emit("refund.processed", {"refund": refund.to_json(), "payment": payment.to_json()})
    else:
        account.set_refund_status(refund, "failed")
        _move_refunded(account, payment, -refund.amount)
        account.emit("refund.failed", {"refund": refund.to_json(), "payment": payment.to_json()})
    return refund


def _move_refunded(account: Account, payment: Payment, delta: int) -> None:
    payment.amount_refunded += delta
    account.amount_refunded += delta
    account.set_payment_status(payment, "refunded" if payment.refund_status == "full" else "captured")
