"""Phone numbers as the service stores them: parsed and validated with Google's
libphonenumber (`phonenumbers`), UK by default, kept in E.164 (+447700900123), shown to
people in national format (07700 900123)."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from notifications.errors import InvalidFieldError

DEFAULT_REGION = "GB"
MAX_INPUT_LENGTH = 40
"""Longer input is refused before parsing: no phone number is written with more."""

FICTIONAL_MOBILE_PREFIX = "7700900"
"""Ofcom's drama range 07700 900000-900999: reserved so that it reaches nobody, which is why
libphonenumber calls it invalid. The demo's patients have such numbers; `fictional=True`
accepts them (demo and tests only: Twilio would refuse them)."""

_SMS_CAPABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}

_PARSE_PROBLEMS = {
    NumberParseException.INVALID_COUNTRY_CODE: "has an unknown country code",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short",
    NumberParseException.TOO_SHORT_NSN: "is too short",
    NumberParseException.TOO_LONG: "is too long",
}


def e164_phone_number(value: str, field: str = "phone", region: str = DEFAULT_REGION, *,
                      fictional: bool = False) -> str:
    """The number in E.164; a number without a country code is read as one of `region`.
    Raises InvalidFieldError naming `field` when it is not a valid number."""
    number = _parsed(value, field, region, fictional)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def e164_mobile_number(value: str, field: str = "mobile", region: str = DEFAULT_REGION, *,
                       fictional: bool = False) -> str:
    """Like `e164_phone_number`, but the number must be able to receive text messages."""
    number = _parsed(value, field, region, fictional)
    if not _is_fictional_mobile(number) and phonenumbers.number_type(number) not in _SMS_CAPABLE:
        raise InvalidFieldError(field, f"'{value.strip()}' is not a mobile number, so it "
                                       "cannot receive text messages")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def display_phone_number(e164: str, region: str = DEFAULT_REGION) -> str:
    """A stored number as people write it: national format at home, international abroad."""
    number = _parsed(e164, "phone", region, fictional=True)
    home = number.country_code == phonenumbers.country_code_for_region(region)
    return phonenumbers.format_number(
        number, PhoneNumberFormat.NATIONAL if home else PhoneNumberFormat.INTERNATIONAL)


def _parsed(value: str, field: str, region: str, fictional: bool) -> phonenumbers.PhoneNumber:
    if not isinstance(value, str) or not value.strip():
        raise InvalidFieldError(field, "a phone number is required")
    text = value.strip()
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidFieldError(field, f"is longer than {MAX_INPUT_LENGTH} characters")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        problem = _PARSE_PROBLEMS.get(error.error_type, "is not a phone number")
        raise InvalidFieldError(field, f"'{text}' {problem}") from error
    if not phonenumbers.is_valid_number(number) and not (fictional
                                                         and _is_fictional_mobile(number)):
        raise InvalidFieldError(field, f"'{text}' is not a valid phone number"
                                       f"{' in the UK' if region == 'GB' else ''}")
    return number


def _is_fictional_mobile(number: phonenumbers.PhoneNumber) -> bool:
    national = str(number.national_number)
    return (number.country_code == 44 and len(national) == 10
            and national.startswith(FICTIONAL_MOBILE_PREFIX))
