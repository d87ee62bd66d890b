"""What no log line may hold: a secret a test handled, or a card number.

A card number (PAN) is 13 to 19 digits that start with a card brand's prefix and pass the
Luhn check, written either in one piece of 15 or 16 digits or in groups (4242 4242 4242
4242, 3782-822463-10005). Ids and timestamps are not taken for one: epoch milliseconds are
13 digits in one piece, and digits inside a word (ord_..., a hex token) are not looked at.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from services.web.cards import luhn_valid

# Digits in groups joined by one space, dash or plus (a form-encoded space), not in a word.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])\d+(?:[ +-]\d+)*(?![0-9A-Za-z])")
_SEPARATOR = re.compile(r"[ +-]")
_BRAND_PREFIX = re.compile(
    "|".join(
        [
            r"4",  # Visa
            r"5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)",  # Mastercard: 51-55, 2221-2720
            r"3[47]",  # American Express
            r"6011|64[4-9]|65",  # Discover
            r"35(?:2[89]|[3-8]\d)",  # JCB: 3528-3589
        ]
    )
)


def _card_shaped(groups: list[str]) -> bool:
    digits = "".join(groups)
    if len(groups) == 1:
        shaped = len(digits) in (15, 16)
    else:
        shaped = 13 <= len(digits) <= 19 and len(groups[0]) == 4 and all(3 <= len(g) <= 6 for g in groups[1:])
    return shaped and _BRAND_PREFIX.match(digits) is not None and luhn_valid(digits)


def card_numbers(line: str) -> list[str]:
    """The card numbers in a line, as bare digits."""
    found = []
    for run in _DIGIT_RUN.finditer(line):
        if len(run.group()) < 13:
            continue
        # A number may be written next to others ("order 17 4242 4242 4242 4242"): try
        # each stretch of consecutive groups.
        groups = _SEPARATOR.split(run.group())
        for first in range(len(groups)):
            for last in range(first + 1, len(groups) + 1):
                if len("".join(groups[first:last])) > 19:
                    break
                if _card_shaped(groups[first:last]):
                    found.append("".join(groups[first:last]))
    return found


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    what: str  # masked: the value itself must not reach the test report either

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line}: {self.what}"


def scan_text(path: Path, text: str, secrets: Collection[str]) -> list[Finding]:
    present = [secret for secret in secrets if secret in text]
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        found += [Finding(path, number, f"secret {s[:6]}…") for s in present if s in line]
        found += [Finding(path, number, f"card number {n[:6]}…{n[-4:]}") for n in card_numbers(line)]
    return found


def log_files(log_dir: Path) -> list[Path]:
    return sorted(path for path in log_dir.rglob("*") if path.is_file())


def assert_clean_logs(log_dir: Path, secrets: Collection[str] = ()) -> None:
    """Every file under `log_dir` (each component's log, whatever it is named) is free
    of `secrets` and of card numbers."""
    files = log_files(log_dir)
    assert files, f"no log files in {log_dir}"
    found = [finding for path in files for finding in scan_text(path, path.read_text(errors="replace"), secrets)]
    assert not found, f"{len(found)} finding(s) in the logs in {log_dir}:\n" + "\n".join(map(str, found[:50]))
