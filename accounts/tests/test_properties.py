"""Properties that hold for any value: the CSV round trip and the name rules."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.models import Staff
from accounts.staff_export import StaffExport
from accounts.staff_import import StaffImport
from records.validators import NAME_JOINERS, validate_name
from subjects.models import SubjectGroup

JOINERS = st.sampled_from(sorted(NAME_JOINERS))
# What real names are made of: letters, marks, digits, punctuation, symbols, spaces.
VISIBLE = st.characters(categories=["L", "M", "N", "P", "S"])
NAME_CHARACTERS = st.one_of(VISIBLE, st.characters(categories=["Zs"]), JOINERS)
# Line breaks, controls, invisible formatting, direction overrides.
REFUSED = st.one_of(
    st.characters(categories=["Cc", "Zl", "Zp"]),
    st.characters(categories=["Cf"]).filter(lambda character: character not in NAME_JOINERS),
)


# Beginnings that spreadsheets treat specially, which a random name seldom has.
TRICKY_STARTS = st.sampled_from(["", "'", "''", "=", "'=", "+", "-", "'-", "@", "'@", '"', ";"])


def names(max_size):
    """Names a person could type: at least one visible character, no spaces around."""
    return (
        st.tuples(TRICKY_STARTS, VISIBLE, st.text(NAME_CHARACTERS, max_size=max_size - 1))
        .map(lambda parts: "".join(parts).strip()[:max_size])
        .filter(bool)
    )


@given(names(150))
def test_every_name_of_visible_characters_spaces_and_joiners_is_accepted(name):
    validate_name(name)


@given(st.text(NAME_CHARACTERS), REFUSED, st.text(NAME_CHARACTERS))
def test_no_name_with_a_control_or_invisible_character_is_accepted(before, refused, after):
    with pytest.raises(ValidationError):
        validate_name(before + refused + after)


@given(st.text(st.one_of(st.characters(categories=["Zs"]), JOINERS), min_size=1))
def test_no_name_without_a_visible_character_is_accepted(name):
    with pytest.raises(ValidationError):
        validate_name(name)


class ExportThenImportTests(TestCase):
    @settings(max_examples=60, deadline=None)
    @given(
        people=st.lists(st.tuples(names(150), names(150)), min_size=1, max_size=4),
        group=names(60),
    )
    def test_exporting_and_importing_again_changes_nobody(self, people, group):
        subject_group = SubjectGroup.objects.create(name=group)
        for number, (first_name, last_name) in enumerate(people):
            Staff.objects.create(
                email=f"person{number}@school.example",
                first_name=first_name,
                last_name=last_name,
                subject_group=subject_group,
            )
        before = list(Staff.objects.values_list("email", "first_name", "last_name", "version"))
        exported = "".join(StaffExport(Staff.objects.all()).chunks()).lstrip("\ufeff")

        staff_import = StaffImport(exported)
        assert staff_import.errors == []
        assert staff_import.counts == (0, 0, len(people))
        staff_import.save()

        after = list(Staff.objects.values_list("email", "first_name", "last_name", "version"))
        assert after == before
