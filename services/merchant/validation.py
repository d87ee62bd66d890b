"""Field checks of the dashboard API. Pure: no I/O but one read of the packaged list
of common passwords.

Each check returns its violations; `check` raises one INVALID_ARGUMENT naming all of
them, with the reason of the first failing group (as the order service does). No
message ever repeats a submitted value: some of them are secrets."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from services.common.errors import FieldViolation, require
from services.common.ssrf import url_problem
from services.merchant import passwords

Group = tuple[str, list[FieldViolation]]

EMAIL_MAX_LENGTH = 254
PASSWORD_MAX_LENGTH = 256  # Unicode code points, after NFKC
NAME_MAX_LENGTH = 200
URL_MAX_LENGTH = 2048
_LOCAL_PART = re.compile(r"^[^\s@\"(),:;<>\[\\\]]{1,64}$")
_DOMAIN_LABEL = re.compile(r"^[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?$")


def check(*groups: Group) -> None:
    """Raise INVALID_ARGUMENT for every violation of every group, if there is any."""
    reason = next((reason for reason, found in groups if found), "INVALID_ARGUMENT")
    require([violation for _, found in groups for violation in found], reason=reason)


def required(value: str, field: str) -> list[FieldViolation]:
    return [] if value else [FieldViolation(field, "is required")]


def choice_violations(value: str, choices: tuple[str, ...], field: str) -> list[FieldViolation]:
    if not value:
        return [FieldViolation(field, "is required")]
    return [] if value in choices else [FieldViolation(field, f"must be one of: {', '.join(choices)}")]


def normalise_email(raw: str) -> str:
    """The form emails are stored and compared in: NFKC, trimmed, lower case."""
    return unicodedata.normalize("NFKC", raw).strip().lower()


def email_violations(email: str, field: str = "email") -> list[FieldViolation]:
    """`email` must already be normalised."""
    if not email:
        return [FieldViolation(field, "is required")]
    local, at, domain = email.rpartition("@")
    labels = domain.split(".")
    valid = (
        bool(at)
        and len(email) <= EMAIL_MAX_LENGTH
        and _LOCAL_PART.match(local) is not None
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()
    )
    return [] if valid else [FieldViolation(field, "is not a valid email address")]


def password_check(password: str, *, min_length: int, email: str, field: str = "password") -> Group:
    """NIST SP 800-63B: long enough (PCI DSS 8.3.6's 12 characters by default), any
    characters, spaces included, and no composition rule; refused when common or the
    account's own email. `email` must already be normalised."""
    if not password:
        return "PASSWORD_TOO_SHORT", [FieldViolation(field, "is required")]
    normal = passwords.normalise(password)
    if len(normal) < min_length:
        return "PASSWORD_TOO_SHORT", [FieldViolation(field, f"must be at least {min_length} characters long")]
    if len(normal) > PASSWORD_MAX_LENGTH:
        return "PASSWORD_TOO_LONG", [FieldViolation(field, f"must be at most {PASSWORD_MAX_LENGTH} characters long")]
    own = email.casefold()
    if normal.strip().casefold() in {own, own.rpartition("@")[0]} - {""}:
        problem = "must not be the account's email address or the part before the @"
        return "PASSWORD_MATCHES_EMAIL", [FieldViolation(field, problem)]
    if passwords.is_common(normal) or len(set(normal)) == 1:
        problem = "is too easy to guess: it is on a list of common and breached ones, or repeats one character"
        return "PASSWORD_TOO_COMMON", [FieldViolation(field, problem)]
    return "PASSWORD_TOO_SHORT", []


def name_violations(name: str, field: str = "name") -> list[FieldViolation]:
    if not name.strip():
        return [FieldViolation(field, "is required")]
    if len(name) > NAME_MAX_LENGTH:
        return [FieldViolation(field, f"must be at most {NAME_MAX_LENGTH} characters long")]
    if any(unicodedata.category(c) == "Cc" for c in name):
        return [FieldViolation(field, "must not contain control characters")]
    return []


def url_violations(
    url: str, field: str = "url", *, allow_empty: bool = False, allow_loopback: bool = False
) -> list[FieldViolation]:
    """An absolute http(s) URL with a host and no user info, not pointing at an
    internal address (services.common.ssrf; what a host name resolves to is checked
    again each time a webhook is sent)."""
    if not url:
        return [] if allow_empty else [FieldViolation(field, "is required")]
    if len(url) > URL_MAX_LENGTH:
        return [FieldViolation(field, f"must be at most {URL_MAX_LENGTH} characters long")]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return [FieldViolation(field, "is not a valid URL")]
    if parts.scheme not in ("http", "https"):
        return [FieldViolation(field, "must be an http or https URL")]
    if not parts.hostname:
        return [FieldViolation(field, "must name a host")]
    if parts.username is not None or parts.password is not None:
        return [FieldViolation(field, "must not contain user information")]
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        return [FieldViolation(field, "must not contain spaces or control characters")]
    problem = url_problem(url, allow_loopback=allow_loopback)
    return [FieldViolation(field, problem)] if problem else []
