"""The hosted checkout's HTML. Plain server-rendered pages, no script at all: every value
is escaped, every page carries the same strict Content-Security-Policy, and a hop to
another origin (the customer's bank, the merchant's site) is a refresh of its own page, so
the form's `form-action 'self'` never has to name them."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from aiohttp import web

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page(title: str, body: str, *, status: int = 200, refresh: str = "") -> web.Response:
    meta = f'<meta http-equiv="refresh" content="{escape(refresh)}">' if refresh else ""
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>{meta}
<link rel="stylesheet" href="/checkout/assets/checkout.css">
</head><body><main>{body}</main></body></html>"""
    return web.Response(text=html, status=status, content_type="text/html", headers=SECURITY_HEADERS)


@dataclass(frozen=True)
class PaymentForm:
    session_id: str
    merchant: str
    amount: str
    description: str
    attempt: int
    error: str = ""
    error_field: str = ""


def field(form: PaymentForm, name: str, label: str, autocomplete: str, placeholder: str) -> str:
    invalid = ' aria-invalid="true"' if form.error_field == name else ""
    return (
        f'<label for="{name}">{label}</label>'
        f'<input id="{name}" name="{name}" inputmode="numeric" autocomplete="{autocomplete}" '
        f'placeholder="{placeholder}" required{invalid}>'
    )


def payment_form(form: PaymentForm, *, status: int = 200) -> web.Response:
    error = f'<p class="error" role="alert">{escape(form.error)}</p>' if form.error else ""
    description = f'<p class="description">{escape(form.description)}</p>' if form.description else ""
    action = f"/checkout/{escape(form.session_id)}"
    body = f"""<h1>{escape(form.merchant)}</h1>
<p class="amount">{escape(form.amount)}</p>{description}
<form method="post" action="{action}/pay" novalidate>
<input type="hidden" name="attempt" value="{form.attempt}">
{field(form, "number", "Card number", "cc-number", "1234 1234 1234 1234")}
<div class="row"><div>{field(form, "expiry", "Expiry (MM / YY)", "cc-exp", "MM / YY")}</div>
<div>{field(form, "cvc", "Security code", "cc-csc", "CVC")}</div></div>
{error}
<button type="submit">Pay {escape(form.amount)}</button>
</form>
<p class="notice">Test mode: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined,
4000 0027 6000 3184 asks for 3-D Secure.</p>
<a class="cancel" href="{action}/cancel">Cancel and return to {escape(form.merchant)}</a>"""
    return page(f"Pay {form.merchant}", body, status=status)


def leave_for(url: str, title: str, message: str) -> web.Response:
    """A page that sends the customer on to `url` at once (and links there)."""
    body = f'<h1>{escape(title)}</h1><p>{escape(message)}</p><a class="button" href="{escape(url)}">Continue</a>'
    return page(title, body, refresh=f"0;url={url}")


def waiting(message: str, again: str) -> web.Response:
    body = f'<h1>Confirming your payment</h1><p role="status">{escape(message)}</p>'
    return page("Confirming your payment", body, refresh=f"2;url={again}")


def notice(title: str, message: str, *, status: int) -> web.Response:
    return page(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>", status=status)
