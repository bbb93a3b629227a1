"""Rules for what people type that every app's models share: names and dates."""

import unicodedata

from django.core.exceptions import ValidationError

# Joiners shape the letters around them in Persian, Arabic and Indic names: a real
# part of a name, unlike other invisible characters.
NAME_JOINERS = frozenset({"\u200c", "\u200d"})
# Controls (tab, escape, bell, delete), invisible formatting (zero-width space,
# byte-order mark, direction overrides), line and paragraph separators, and code
# points that are no characters at all.
REFUSED_IN_NAMES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

# Dates that every database stores and every time zone converts and shows.
FIRST_YEAR, LAST_YEAR = 1900, 2100


def validate_name(value):
    """Refuse names with control or invisible characters, or with nothing visible at all."""
    for character in value:
        if unicodedata.category(character) in REFUSED_IN_NAMES and character not in NAME_JOINERS:
            raise ValidationError(
                "Take the line break, control or invisible character (U+%(code)04X) out of "
                "this name.",
                code="invisible_character",
                params={"code": ord(character)},
            )
    if not any(not character.isspace() and character not in NAME_JOINERS for character in value):
        raise ValidationError(
            "Enter a name with at least one visible character.", code="invisible_name"
        )


def validate_year_in_range(value):
    """Refuse a date or time outside the years every database and time zone can handle."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(
            "Enter a date between %(first)s and %(last)s.",
            code="year_out_of_range",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )
