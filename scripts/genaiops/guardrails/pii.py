"""PII detectors: e-mail, phone, payment card (Luhn), IBAN (ISO 13616 mod-97), US SSN, UK NINO.

Every pattern is linear: no nested unbounded quantifiers, all repetitions bounded. Candidates are
confirmed by checksums or validity rules so that order numbers and dates are not reported.
Results name the entity types found, never the values (reports must not leak PII).
"""

from __future__ import annotations

import re

from genaiops.guardrails.normalize import normalize

ENTITIES = ("email", "phone", "credit_card", "iban", "us_ssn", "uk_nino")

_EMAIL = re.compile(
    r"(?<![\w.+-])[a-z0-9][a-z0-9._%+-]{0,63}"
    r"\s?(?:@|\[at\]|\(at\)|\sat\s)\s?"
    r"[a-z0-9][a-z0-9-]{0,62}(?:(?:\.|\s?\[dot\]\s?|\s?\(dot\)\s?|\sdot\s)[a-z0-9-]{1,63}){0,6}"
    r"(?:\.|\s?\[dot\]\s?|\s?\(dot\)\s?|\sdot\s)[a-z]{2,24}(?![a-z0-9-])"
)
_EMAIL_PLAIN = re.compile(r"@")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
_IBAN = re.compile(r"(?<![a-z0-9])[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,3})?(?![a-z0-9])")
_SSN = re.compile(r"(?<![\d-])(\d{3})[- ](\d{2})[- ](\d{4})(?![\d-])")
_SSN_CONTEXT = re.compile(r"(?:ssn|social security(?: number)?|soc\.? sec\.?)\D{0,20}(\d{9})(?!\d)")
_NINO = re.compile(
    r"(?<![a-z0-9])([a-ceghj-pr-tw-z][a-ceghj-npr-tw-z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([a-d])(?![a-z0-9])"
)
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w])"
    r"|(?<![\w+])\+\d{7,15}(?!\w)"
)

IBAN_LENGTHS: dict[str, int] = {
    "ad": 24,
    "ae": 23,
    "at": 20,
    "be": 16,
    "bg": 22,
    "ch": 21,
    "cy": 28,
    "cz": 24,
    "de": 22,
    "dk": 18,
    "ee": 20,
    "es": 24,
    "fi": 18,
    "fr": 27,
    "gb": 22,
    "gr": 27,
    "hr": 21,
    "hu": 28,
    "ie": 22,
    "is": 26,
    "it": 27,
    "li": 21,
    "lt": 20,
    "lu": 20,
    "lv": 21,
    "mc": 27,
    "mt": 31,
    "nl": 18,
    "no": 15,
    "pl": 28,
    "pt": 25,
    "ro": 24,
    "se": 24,
    "si": 19,
    "sk": 24,
    "sm": 27,
    "tr": 26,
    "sa": 24,
    "qa": 29,
    "il": 23,
}


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) checksum used by payment card numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_brand_ok(digits: str) -> bool:
    """Issuer prefixes and lengths of the major networks (Visa, Mastercard, Amex, Discover, JCB, Diners)."""
    n = len(digits)
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return n == 16
    if digits[:2] in ("34", "37"):
        return n == 15
    if digits.startswith("6011") or digits.startswith("65") or 644 <= int(digits[:3]) <= 649:
        return 16 <= n <= 19
    if 3528 <= int(digits[:4]) <= 3589:
        return 16 <= n <= 19
    if digits[:2] in ("36", "38", "39") or 300 <= int(digits[:3]) <= 305:
        return 14 <= n <= 19
    return False


def iban_valid(candidate: str) -> bool:
    """ISO 13616: known country length (when listed) and the ISO 7064 mod-97 check equals 1."""
    iban = candidate.replace(" ", "").lower()
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    if not 15 <= len(iban) <= 34 or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def find_pii(text: str, entities: tuple[str, ...] | list[str] = ENTITIES) -> dict[str, int]:
    """Count each entity type in ``text`` (any form: it is normalised here)."""
    norm = normalize(text)
    counts = dict.fromkeys(ENTITIES, 0)
    wanted = set(entities)
    masked = norm
    if "credit_card" in wanted or "phone" in wanted:
        for match in _CARD.finditer(norm):
            digits = re.sub(r"\D", "", match.group(0))
            if _card_brand_ok(digits) and luhn_valid(digits):
                counts["credit_card"] += 1
                masked = masked.replace(match.group(0), " ", 1)
    if "iban" in wanted:
        for match in _IBAN.finditer(norm):
            if iban_valid(match.group(0)):
                counts["iban"] += 1
                masked = masked.replace(match.group(0), " ", 1)
    if "us_ssn" in wanted or "phone" in wanted:
        for match in _SSN.finditer(masked):
            if ssn_valid(*match.groups()):
                counts["us_ssn"] += 1
                masked = masked.replace(match.group(0), " ", 1)
        for match in _SSN_CONTEXT.finditer(masked):
            digits = match.group(1)
            if ssn_valid(digits[:3], digits[3:5], digits[5:]):
                counts["us_ssn"] += 1
                masked = masked.replace(digits, " ", 1)
    if "uk_nino" in wanted:
        counts["uk_nino"] = sum(1 for _ in _NINO.finditer(norm))
    if "email" in wanted:
        counts["email"] = sum(1 for _ in _EMAIL.finditer(norm))
    if "phone" in wanted:
        for match in _PHONE.finditer(masked):
            digits = re.sub(r"\D", "", match.group(0))
            has_separator_shape = match.group(0).startswith(("+", "(")) or len(digits) >= 10
            if 7 <= len(digits) <= 15 and has_separator_shape and not _looks_like_date(match.group(0)):
                counts["phone"] += 1
    return {k: (v if k in wanted else 0) for k, v in counts.items()}


def _looks_like_date(candidate: str) -> bool:
    parts = re.split(r"[ .-]", candidate.strip())
    return len(parts) == 3 and len(parts[0]) == 4 and all(len(p) == 2 for p in parts[1:])
