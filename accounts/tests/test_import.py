"""Importing staff from a CSV file: by command and by page, checked first, then all or nothing."""

import codecs
import io

import pytest
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.forms.spreadsheets import PENDING_STAFF_IMPORT
from accounts.models import Staff
from accounts.staff_import import ImportCounts, StaffImport
from accounts.tests.factories import StaffFactory
from subjects.models import SubjectGroup
from subjects.tests.factories import SubjectGroupFactory

pytestmark = pytest.mark.django_db

HEADER = "email,first_name,last_name,subject_group"


def csv_text(*rows, header=HEADER):
    return "\n".join([header, *rows]) + "\n"


def read(content, **kwargs):
    """A StaffImport of a file's bytes, as the command and the page read it."""
    return StaffImport.from_file(io.BytesIO(content), **kwargs)


def imported(*rows, header=HEADER, **kwargs):
    return read(csv_text(*rows, header=header).encode(), **kwargs)


def errors_of(staff_import):
    return [(error.line, error.reason) for error in staff_import.errors]


def file_error(content):
    """The message that refuses a whole file."""
    with pytest.raises(ValidationError) as raised:
        read(content)
    return " ".join(raised.value.messages)


def snapshot():
    return sorted(Staff.objects.values_list("email", "first_name", "last_name", "subject_group"))


@pytest.fixture
def alan(db):
    return StaffFactory(email="alan@school.example", first_name="Alan", last_name="Turing")


# Creating, updating, unchanged
# ------------------------------------------------------------------------------
def test_new_emails_create_known_emails_update_and_identical_rows_change_nothing(ada, alan):
    staff_import = imported(
        "ada@school.example,Ada,Lovelace,",
        "alan@school.example,Alan Mathison,Turing,",
        "grace@school.example,Grace,Hopper,",
    )

    assert staff_import.errors == []
    assert staff_import.counts == ImportCounts(create=1, update=1, unchanged=1)
    assert staff_import.save() == (1, 1, 1)
    assert snapshot() == [
        ("ada@school.example", "Ada", "Lovelace", None),
        ("alan@school.example", "Alan Mathison", "Turing", None),
        ("grace@school.example", "Grace", "Hopper", None),
    ]


def test_emails_match_in_any_case_and_are_stored_in_lower_case(ada):
    staff_import = imported(" ADA@School.Example ,Ada,Lovelace,", "New@School.Example,New,Member,")

    assert staff_import.counts == (1, 0, 1)
    staff_import.save()
    assert Staff.objects.filter(email="new@school.example").exists()


def test_cells_are_trimmed(ada):
    assert imported("ada@school.example,  Ada , Lovelace  ,").counts == (0, 0, 1)


def test_a_known_email_gets_the_files_group_matched_ignoring_case(ada, subject_group):
    staff_import = imported("ada@school.example,Ada,Lovelace, MATHEMATICS ")

    assert staff_import.counts == (0, 1, 0)
    staff_import.save()
    ada.refresh_from_db()
    assert ada.subject_group == subject_group


def test_an_empty_group_cell_takes_the_member_out_of_their_group(ada, subject_group):
    ada.subject_group = subject_group
    ada.save()

    imported("ada@school.example,Ada,Lovelace,").save()

    ada.refresh_from_db()
    assert ada.subject_group is None


def test_without_a_group_column_members_keep_their_group(ada, subject_group):
    ada.subject_group = subject_group
    ada.save()

    staff_import = imported(
        "ada@school.example,Ada,Lovelace",
        "new@school.example,New,Member",
        header="email,first_name,last_name",
    )

    assert staff_import.counts == (1, 0, 1)
    staff_import.save()
    ada.refresh_from_db()
    assert ada.subject_group == subject_group
    assert Staff.objects.get(email="new@school.example").subject_group is None


def test_importing_the_same_file_twice_changes_nothing_the_second_time(subject_group):
    rows = [
        f"member{number}@school.example,First{number},Last{number},Mathematics"
        for number in range(20)
    ]
    imported(*rows).save()
    before = snapshot()

    again = imported(*rows)

    assert again.counts == (0, 0, 20)
    again.save()
    assert snapshot() == before


def test_an_exported_file_imports_unchanged_formula_guards_and_all(client_as, manager):
    group = SubjectGroupFactory(name="-Remedial")
    StaffFactory(
        email="-eve@school.example", first_name="=Eve", last_name="+Evans", subject_group=group
    )
    StaffFactory(email="zoe@school.example", first_name="Zoë", last_name="Ørsted")
    response = client_as(manager).get(reverse("staff:export"), {"status": "all"})
    exported = b"".join(response.streaming_content)

    staff_import = read(exported)

    assert staff_import.errors == []
    assert staff_import.counts == (0, 0, 3)


# Each problem, on its line
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("not-an-email,Bad,Email,", "“not-an-email” is not a valid email address."),
        ("ada@,Bad,Email,", "“ada@” is not a valid email address."),
        (",No,Email,", "The email is missing."),
        ("x@school.example,,Lastname,", "The first name is missing."),
        ("x@school.example,Firstname,   ,", "The last name is missing."),
        ("x@school.example,Firstname", "The last name is missing."),
        (f"x@school.example,{'F' * 151},Last,", "The first name is longer than 150 characters."),
        (f"x@school.example,First,{'L' * 151},", "The last name is longer than 150 characters."),
        (f"{'x' * 250}@school.example,First,Last,", "The email is longer than 254 characters."),
        ("x@school.example,First,Last,Astronomy", "There is no subject group “Astronomy”."),
        (
            f"x@school.example,First,Last,{'G' * 61}",
            "The subject group is longer than 60 characters.",
        ),
        ("grace@school.example,Grace,Again,", "The email grace@school.example is also on line 2."),
        ("GRACE@school.example,Grace,Again,", "The email grace@school.example is also on line 2."),
    ],
)
def test_each_invalid_row_is_reported_with_its_line_and_reason(subject_group, row, reason):
    staff_import = imported("grace@school.example,Grace,Hopper,", row, "ok@school.example,Ok,Fine,")

    [(line, message)] = errors_of(staff_import)
    assert line == 3
    assert message.startswith(reason)


def test_values_of_the_longest_allowed_length_are_accepted():
    staff_import = imported(
        f"{'x' * 239}@school.example,{'F' * 150},{'L' * 150},{'G' * 60}", create_groups=True
    )

    assert staff_import.errors == []
    assert staff_import.counts == (1, 0, 0)


def test_every_problem_of_every_row_is_reported_in_line_order():
    staff_import = imported(
        "bad,,,",
        "fine@school.example,Fine,Row,",
        "also-fine@school.example,Also,Fine,Nowhere",
    )

    assert errors_of(staff_import) == [
        (2, "“bad” is not a valid email address."),
        (2, "The first name is missing."),
        (2, "The last name is missing."),
        (
            4,
            "There is no subject group “Nowhere”. Add it first, or choose to create "
            "subject groups that do not exist yet.",
        ),
    ]


def test_line_numbers_count_the_header_blank_lines_and_lines_inside_quoted_cells():
    text = (
        f"{HEADER}\r\n"
        "a@school.example,A,One,\r\n"
        "\r\n"
        ",,,\r\n"
        'b@school.example,"Two\r\nlines",Two,\r\n'
        "not-an-email,C,Three,\r\n"
    )

    staff_import = read(text.encode())

    assert errors_of(staff_import) == [
        (5, "The first name holds a line break, control or invisible character (U+000D)."),
        (7, "“not-an-email” is not a valid email address."),
    ]
    assert staff_import.counts == (1, 0, 0)


def test_str_of_an_error_names_its_line():
    [error] = imported("bad,Bad,Row,").errors

    assert str(error) == "Line 2: “bad” is not a valid email address."


# All or nothing
# ------------------------------------------------------------------------------
def test_one_invalid_row_means_nothing_is_written(ada):
    before = snapshot()
    staff_import = imported(
        "ada@school.example,Ada,Byron,",
        "new@school.example,New,Member,",
        "bad-email,Bad,Row,",
    )

    with pytest.raises(ValueError, match="errors"):
        staff_import.save()

    assert snapshot() == before


# Files with a byte-order mark, semicolons, other headers
# ------------------------------------------------------------------------------
def test_a_utf8_file_with_a_byte_order_mark_and_semicolons_is_read(subject_group):
    content = (
        codecs.BOM_UTF8
        + (
            "email;first_name;last_name;subject_group\r\n"
            "zoe@school.example;Zoë;Ørsted;Mathematics\r\n"
            "jose@school.example;José;Nuñez, Jr;\r\n"
            "bad;Bad;Row;\r\n"
        ).encode()
    )

    staff_import = read(content)

    assert errors_of(staff_import) == [(4, "“bad” is not a valid email address.")]
    assert staff_import.counts == (2, 0, 0)


def test_a_file_with_a_byte_order_mark_and_commas_imports_accented_names():
    content = codecs.BOM_UTF8 + csv_text("zoe@school.example,Zoë,Ørsted,").encode()

    read(content).save()

    assert Staff.objects.get(email="zoe@school.example").get_full_name() == "Zoë Ørsted"


@pytest.mark.parametrize(
    ("header", "row"),
    [
        (
            " Email , First Name , Last Name , Subject Group ",
            "ada@school.example,Ada,Lovelace,Mathematics",
        ),
        ("EMAIL,FIRST_NAME,LAST_NAME,SUBJECT_GROUP", "ada@school.example,Ada,Lovelace,Mathematics"),
        ("E-mail,FirstName,last name,Subject group", "ada@school.example,Ada,Lovelace,Mathematics"),
        (
            "Payroll number,Email,Notes,Last name,First name,Subject group,Start date",
            "123,ada@school.example,=1+1,Lovelace,Ada,Mathematics,2024-09-01",
        ),
    ],
)
def test_headers_match_ignoring_case_spaces_and_extra_columns(subject_group, header, row):
    staff_import = imported(row, header=header)

    assert staff_import.errors == []
    staff_import.save()
    ada = Staff.objects.get(email="ada@school.example")
    assert (ada.first_name, ada.last_name, ada.subject_group) == ("Ada", "Lovelace", subject_group)


# Subject groups
# ------------------------------------------------------------------------------
def test_unknown_groups_are_errors_unless_they_may_be_created(subject_group):
    rows = [
        "a@school.example,A,One,Drama",
        "b@school.example,B,Two,DRAMA",
        "c@school.example,C,Three,mathematics",
    ]

    refused = imported(*rows)
    accepted = imported(*rows, create_groups=True)

    assert [line for line, _ in errors_of(refused)] == [2, 3]
    assert accepted.errors == []
    assert accepted.new_group_names == ["Drama"]


def test_new_groups_are_created_once_named_as_first_written(subject_group):
    imported(
        "a@school.example,A,One,Drama",
        "b@school.example,B,Two,DRAMA",
        "c@school.example,C,Three, drama ",
        create_groups=True,
    ).save()

    drama = SubjectGroup.objects.get(name__iexact="drama")
    assert drama.name == "Drama"
    assert SubjectGroup.objects.count() == 2
    assert set(drama.staff.values_list("email", flat=True)) == {
        "a@school.example",
        "b@school.example",
        "c@school.example",
    }


def test_moving_a_member_into_a_new_group_is_an_update(ada):
    staff_import = imported("ada@school.example,Ada,Lovelace,Drama", create_groups=True)

    assert staff_import.counts == (0, 1, 0)
    staff_import.save()
    ada.refresh_from_db()
    assert ada.subject_group.name == "Drama"


# What imported staff may do
# ------------------------------------------------------------------------------
def test_imported_staff_have_unusable_passwords_and_no_privileges(mailoutbox):
    imported("a@school.example,A,One,", "b@school.example,B,Two,").save()

    staff = list(Staff.objects.all())
    assert len(staff) == 2
    for member in staff:
        assert not member.has_usable_password()
        assert member.is_invited
        assert member.is_active
        assert not member.is_staff
        assert not member.is_superuser
        assert not member.must_change_password
    assert staff[0].password != staff[1].password
    assert mailoutbox == []


def test_an_update_changes_names_and_group_only(ada, subject_group, password, mailoutbox):
    ada.is_active = False
    ada.is_staff = True
    ada.save()
    password_hash = ada.password

    imported("ada@school.example,Augusta Ada,King,Mathematics").save()

    ada.refresh_from_db()
    assert (ada.first_name, ada.last_name, ada.subject_group) == (
        "Augusta Ada",
        "King",
        subject_group,
    )
    assert ada.password == password_hash
    assert ada.check_password(password)
    assert not ada.is_active
    assert ada.is_staff
    assert not ada.is_superuser
    assert mailoutbox == []


def test_a_superusers_names_can_be_updated_but_never_their_privileges(superuser):
    imported("root@school.example,Samantha,Super,").save()

    superuser.refresh_from_db()
    assert superuser.first_name == "Samantha"
    assert superuser.is_superuser
    assert superuser.is_staff
    assert superuser.has_usable_password()


def test_a_manager_cannot_change_a_superuser_through_an_import(superuser, manager):
    changing = imported("root@school.example,Samantha,Super,", editor=manager)
    unchanged = imported("root@school.example,Sam,Super,", editor=manager)

    assert errors_of(changing) == [
        (2, "Only a superuser can change or delete a superuser's account.")
    ]
    assert unchanged.errors == []


# Files that cannot be read
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"  \r\n\r\n", "The file is empty."),
        (codecs.BOM_UTF8, "The file is empty."),
        (HEADER.encode() + b"\r\n", "The file has no staff rows below its header."),
        (HEADER.encode() + b"\r\n,,,\r\n", "The file has no staff rows below its header."),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "This is not a CSV file."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a CSV file."),
        (codecs.BOM_UTF16_LE + HEADER.encode("utf-16-le"), "The file is in UTF-16, not UTF-8."),
        (
            f"{HEADER}\nzoe@school.example,Zoë,Ørsted,\n".encode("latin-1"),
            "The file is not in UTF-8 (line 2 is not).",
        ),
        (b"email,first_name\r\na@school.example,A\r\n", "The header lacks the column last_name."),
        (
            b"Name,Mail\r\nAda,a@school.example\r\n",
            "The header lacks the columns email, first_name, last_name.",
        ),
        (b"Dear colleagues, here is the list.\r\n", "The header lacks the columns"),
        (b"email,Email,first_name,last_name\r\n", "The header names the column email twice."),
        (
            (HEADER + '\r\na@school.example,"' + "x" * 140_000 + "\r\n").encode(),
            "Line 2 is longer than 10,000 characters",
        ),
        (
            (HEADER + "\r\na@school.example,A,B,\r\n" + "x" * 10_001 + "\r\n").encode(),
            "Line 3 is longer than 10,000 characters",
        ),
        (
            (HEADER + "\r\n\r\na@school.example,A,B" + ",x" * 48 + "\r\n").encode(),
            "Line 3 has 51 cells; a staff file has at most 50.",
        ),
        (HEADER.encode() + b",x" * 47 + b"\r\n", "Line 1 has 51 cells"),
    ],
)
def test_a_file_that_is_no_staff_csv_gets_one_clear_message(content, message):
    assert file_error(content).startswith(message)


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.STAFF_IMPORT_MAX_BYTES = 100
    content = csv_text(*[f"member{number}@school.example,First,Last," for number in range(5)])

    assert file_error(content.encode()).startswith(
        "The file is larger than 100\xa0bytes, the limit."
    )


def test_a_file_over_the_row_limit_is_refused(settings):
    settings.STAFF_IMPORT_MAX_ROWS = 2
    content = csv_text(*[f"member{number}@school.example,First,Last," for number in range(3)])

    assert file_error(content.encode()).startswith("The file has more than 2 staff rows")


# Queries
# ------------------------------------------------------------------------------
# Measured at 16 to create and 19 to update: 201 staff take three INSERTs (SQLite
# takes some 90 rows at a time), 200 two UPDATEs; a new group, the events, and each
# bulk write replacing the lists' token. The same for 2,000 rows; a query per row is
# over 200.
IMPORT_QUERY_BUDGET = 20


@pytest.mark.parametrize("existing", [False, True], ids=["create", "update"])
def test_importing_200_rows_takes_a_bounded_number_of_queries(
    django_assert_max_num_queries, existing
):
    groups = [SubjectGroupFactory(name=name) for name in ("Maths", "Science", "Art")]
    if existing:
        for number in range(200):
            StaffFactory(email=f"member{number}@school.example")
    rows = [
        f"member{number}@school.example,First{number},Last{number},{groups[number % 3].name}"
        for number in range(200)
    ]

    with django_assert_max_num_queries(IMPORT_QUERY_BUDGET):
        counts = imported(*rows, "new@school.example,New,Group,Drama", create_groups=True).save()

    assert counts == ((1, 200, 0) if existing else (201, 0, 0))
    assert Staff.objects.filter(subject_group__name="Art").count() == 66


# The command
# ------------------------------------------------------------------------------
@pytest.fixture
def csv_path(tmp_path):
    def write(*rows, header=HEADER, content=None):
        path = tmp_path / "staff.csv"
        path.write_bytes(
            content if content is not None else csv_text(*rows, header=header).encode()
        )
        return str(path)

    return write


def run_import(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_staff", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_and_prints_the_counts(csv_path, ada):
    path = csv_path("ada@school.example,Ada,Byron,", "new@school.example,New,Member,")

    out, err = run_import(path)

    assert "Created 1, updated 1; 0 unchanged." in out
    assert err == ""
    assert Staff.objects.get(email="ada@school.example").last_name == "Byron"
    assert Staff.objects.filter(email="new@school.example").exists()


def test_command_dry_run_counts_and_writes_nothing(csv_path, ada):
    before = snapshot()
    path = csv_path("ada@school.example,Ada,Byron,", "new@school.example,New,Member,Drama")

    out, _ = run_import(path, "--dry-run", "--create-groups")

    assert "Would create 1, update 1; 0 unchanged." in out
    assert "Subject groups to create: Drama." in out
    assert "Dry run: nothing was written." in out
    assert snapshot() == before
    assert not SubjectGroup.objects.exists()


def test_command_creates_groups_when_asked(csv_path):
    out, _ = run_import(csv_path("new@school.example,New,Member,Drama"), "--create-groups")

    assert "Created 1" in out
    assert Staff.objects.get().subject_group.name == "Drama"


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_command_prints_every_problem_and_fails_writing_nothing(csv_path, ada, dry_run):
    before = snapshot()
    path = csv_path(
        "ada@school.example,Ada,Byron,",
        "bad-email,Bad,Row,",
        "new@school.example,New,Member,Drama",
    )
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="2 problems: nothing was imported."):
        call_command("import_staff", path, *dry_run, stdout=out, stderr=err)

    assert "Would create 0, update 1; 0 unchanged." in out.getvalue()
    assert "Line 3: “bad-email” is not a valid email address." in err.getvalue()
    assert "Line 4: There is no subject group “Drama”." in err.getvalue()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\x00\x01\x02", "This is not a CSV file."),
        (b"name,mail\r\nAda,a@school.example\r\n", "The header lacks the columns"),
    ],
)
def test_command_refuses_a_file_that_is_no_staff_csv(csv_path, content, message):
    path = csv_path(content=content)

    with pytest.raises(CommandError, match=message):
        run_import(path)


def test_command_refuses_a_file_that_does_not_exist(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*missing.csv: No such file"):
        run_import(str(tmp_path / "missing.csv"))


# The page: upload, preview, confirm
# ------------------------------------------------------------------------------
def upload(client, text=None, content=None, name="staff.csv", **data):
    content = content if content is not None else text.encode()
    return client.post(
        reverse("staff:import"), {"file": SimpleUploadedFile(name, content, "text/csv"), **data}
    )


def preview(client):
    return client.get(reverse("staff:import_preview"))


def confirm(client, response):
    """Press the Import button of a preview page."""
    return client.post(
        reverse("staff:import_preview"), {"token": response.context["form"]["token"].value()}
    )


@pytest.fixture
def importer(client_as, manager):
    return client_as(manager)


def test_upload_preview_and_confirm_imports_the_staff(importer, ada, subject_group):
    before = snapshot()
    text = csv_text("ada@school.example,Ada,Byron,", "new@school.example,New,Member,Mathematics")

    uploaded = upload(importer, text)
    assertRedirects(uploaded, reverse("staff:import_preview"))
    previewed = preview(importer)

    assertContains(previewed, "staff.csv")
    assertContains(
        previewed,
        '<tr><th scope="row">Staff to create</th><td class="text-end">1</td></tr>',
        html=True,
    )
    assertContains(
        previewed,
        '<tr><th scope="row">Staff to update</th><td class="text-end">1</td></tr>',
        html=True,
    )
    assertContains(
        previewed, '<tr><th scope="row">Unchanged</th><td class="text-end">0</td></tr>', html=True
    )
    assertContains(previewed, "Nothing has been saved yet.")
    assert snapshot() == before

    confirmed = confirm(importer, previewed)

    assertRedirects(confirmed, reverse("staff:list"), fetch_redirect_response=False)
    listed = importer.get(reverse("staff:list"))
    assertContains(listed, "Staff imported: 1 created, 1 updated, 0 unchanged.")
    assert Staff.objects.get(email="ada@school.example").last_name == "Byron"
    assert Staff.objects.get(email="new@school.example").subject_group == subject_group
    assert PENDING_STAFF_IMPORT not in importer.session


def test_preview_lists_every_problem_with_its_line_and_offers_no_import(importer):
    upload(
        importer,
        csv_text("ok@school.example,Ok,Fine,", "bad-email,Bad,Row,", "x@school.example,,Y,"),
    )

    previewed = preview(importer)

    assertContains(previewed, "2 problems: nothing can be imported")
    assertContains(
        previewed,
        "<tr><td>3</td><td>“bad-email” is not a valid email address.</td></tr>",
        html=True,
    )
    assertContains(previewed, "<tr><td>4</td><td>The first name is missing.</td></tr>", html=True)
    assertNotContains(previewed, ">Import</button>")


def test_confirming_a_file_with_problems_writes_nothing(importer):
    upload(importer, csv_text("ok@school.example,Ok,Fine,", "bad-email,Bad,Row,"))
    token = importer.session[PENDING_STAFF_IMPORT]["token"]
    staff_before = Staff.objects.count()

    response = importer.post(reverse("staff:import_preview"), {"token": token})

    assertContains(response, "The file has problems: nothing was imported.")
    assert Staff.objects.count() == staff_before


def test_the_import_is_checked_again_on_confirmation(importer):
    drama = SubjectGroupFactory(name="Drama")
    upload(importer, csv_text("new@school.example,New,Member,Drama"))
    previewed = preview(importer)
    drama.delete()

    response = confirm(importer, previewed)

    assertContains(response, "There is no subject group “Drama”.")
    assert not Staff.objects.filter(email="new@school.example").exists()


def test_a_preview_cannot_confirm_a_file_uploaded_after_it(importer):
    upload(importer, csv_text("first@school.example,First,File,"))
    first_preview = preview(importer)
    upload(importer, csv_text("second@school.example,Second,File,"))

    response = confirm(importer, first_preview)

    assertContains(response, "This preview is out of date")
    assert not Staff.objects.filter(
        email__in=["first@school.example", "second@school.example"]
    ).exists()


def test_confirming_twice_imports_once(importer):
    upload(importer, csv_text("new@school.example,New,Member,"))
    previewed = preview(importer)
    confirm(importer, previewed)

    again = confirm(importer, previewed)

    assertContains(again, "This preview is out of date")
    assert Staff.objects.filter(email="new@school.example").count() == 1


def test_preview_without_an_upload_says_so(importer):
    assertContains(preview(importer), "No file is waiting to be imported.")


def test_the_checkbox_creates_missing_groups(importer):
    upload(importer, csv_text("new@school.example,New,Member,Drama"), create_groups="on")
    previewed = preview(importer)
    assertContains(previewed, "Subject groups to create: Drama.")

    confirm(importer, previewed)

    assert Staff.objects.get(email="new@school.example").subject_group.name == "Drama"


def test_a_semicolon_file_with_a_byte_order_mark_imports_through_the_page(importer):
    content = (
        codecs.BOM_UTF8 + "Email;First name;Last name\r\nzoe@school.example;Zoë;Ørsted\r\n".encode()
    )
    upload(importer, content=content)

    confirm(importer, preview(importer))

    assert Staff.objects.get(email="zoe@school.example").get_full_name() == "Zoë Ørsted"


def test_a_manager_is_told_that_a_superusers_row_is_not_theirs_to_change(importer, superuser):
    upload(importer, csv_text("root@school.example,Samantha,Super,"))

    assertContains(
        preview(importer), "Only a superuser can change or delete a superuser&#x27;s account."
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"  \r\n", "The file is empty."),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00", "This is not a CSV file."),
        ("name;mail\r\nZoë;z@school.example\r\n".encode("latin-1"), "The file is not in UTF-8"),
        (b"name,mail\r\nAda,a@school.example\r\n", "The header lacks the columns"),
        (HEADER.encode(), "The file has no staff rows below its header."),
    ],
)
def test_upload_form_refuses_a_file_that_is_no_staff_csv(importer, content, message):
    response = upload(importer, content=content)

    assertContains(response, message)
    assert PENDING_STAFF_IMPORT not in importer.session


def test_upload_form_refuses_a_file_over_the_size_limit(importer, settings):
    settings.STAFF_IMPORT_MAX_BYTES = 1024
    text = csv_text(*[f"member{number}@school.example,First,Last," for number in range(50)])

    response = upload(importer, text)

    assertContains(response, "The file is larger than 1.0\xa0KB, the limit.")
    assert not Staff.objects.filter(email="member0@school.example").exists()


def test_upload_form_states_the_size_limit(importer, settings):
    settings.STAFF_IMPORT_MAX_BYTES = 2 * 1024 * 1024

    response = importer.get(reverse("staff:import"))

    assertContains(response, "at most 2.0\xa0MB")
    assertContains(response, 'enctype="multipart/form-data"')
    assertContains(response, "Create subject groups that do not exist yet")


# Who may import
# ------------------------------------------------------------------------------
IMPORT_PAGES = ["staff:import", "staff:import_preview"]


@pytest.mark.parametrize("url_name", IMPORT_PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, url_name):
    url = reverse(url_name)

    response = client.get(url)

    assertRedirects(response, f"{reverse('login')}?next={url}")


@pytest.mark.parametrize("url_name", IMPORT_PAGES)
@pytest.mark.parametrize(("role", "status"), [("plain", 403), ("manager", 200), ("superuser", 200)])
def test_only_those_who_add_and_change_staff_may_open_the_import_pages(
    client_as, users_by_role, url_name, role, status
):
    response = client_as(users_by_role[role]).get(reverse(url_name))

    assert response.status_code == status


def test_permission_to_add_staff_alone_is_not_enough(client_as, plain_staff):
    plain_staff.user_permissions.add(Permission.objects.get(codename="add_staff"))

    response = client_as(plain_staff).get(reverse("staff:import"))

    assert response.status_code == 403


def test_plain_staff_can_neither_upload_nor_confirm(client_as, plain_staff, importer):
    upload(importer, csv_text("new@school.example,New,Member,"))
    token = importer.session[PENDING_STAFF_IMPORT]["token"]
    client = client_as(plain_staff)

    uploaded = upload(client, csv_text("other@school.example,Other,Member,"))
    confirmed = client.post(reverse("staff:import_preview"), {"token": token})

    assert uploaded.status_code == 403
    assert confirmed.status_code == 403
    assert not Staff.objects.filter(
        email__in=["new@school.example", "other@school.example"]
    ).exists()


def test_managers_see_the_import_link_and_plain_staff_do_not(client_as, manager, plain_staff):
    assertContains(
        client_as(manager).get(reverse("staff:list")), f'href="{reverse("staff:import")}"'
    )
    assertNotContains(client_as(plain_staff).get(reverse("staff:list")), reverse("staff:import"))


def test_an_uploaded_file_is_read_once_however_often_it_is_previewed(importer, monkeypatch):
    reads = []
    read_text = StaffImport._read
    monkeypatch.setattr(
        StaffImport, "_read", lambda self, text: reads.append(1) or read_text(self, text)
    )
    upload(importer, csv_text("n@school.example,Nia,New,"))

    preview(importer)
    response = preview(importer)
    confirm(importer, response)

    assert len(reads) == 1
    assert Staff.objects.filter(email="n@school.example").exists()


def test_an_import_left_waiting_by_an_earlier_version_of_the_site_asks_for_the_file_again(
    importer,
):
    session = importer.session
    session[PENDING_STAFF_IMPORT] = {"text": "email,first_name,last_name\n", "token": "old"}
    session.save()

    response = preview(importer)

    assert response.status_code == 200
    assert PENDING_STAFF_IMPORT not in importer.session


def test_preview_lists_who_will_be_created_and_what_changes_for_whom(importer, ada, subject_group):
    text = csv_text(
        "ada@school.example,Ada,Byron,Mathematics", "new@school.example,New,Member,Physics"
    )
    upload(importer, text, create_groups="on")

    previewed = preview(importer)

    assertContains(
        previewed,
        "<tr><td>new@school.example</td><td>New Member</td><td>Physics</td></tr>",
        html=True,
    )
    assertContains(
        previewed,
        "<tr><td>ada@school.example</td>"
        "<td>Name: Ada Lovelace → Ada Byron<br>Subject group: — → Mathematics</td></tr>",
        html=True,
    )


def test_preview_of_many_rows_names_the_first_and_counts_the_rest_in_few_queries(
    importer, django_assert_max_num_queries
):
    rows = [f"new{number}@school.example,New,Member{number}," for number in range(500)]
    upload(importer, csv_text(*rows))

    with django_assert_max_num_queries(12):
        previewed = preview(importer)

    assertContains(previewed, "new49@school.example")
    assertNotContains(previewed, "new50@school.example")
    assertContains(previewed, "… and 450 more to create.")


def test_the_import_page_offers_a_sample_file_that_imports_as_it_is(importer):
    response = importer.get(reverse("staff:import"))

    assertContains(
        response,
        '<a href="/static/samples/staff.csv" download="staff-sample.csv">'
        "Download a sample CSV file</a>",
        html=True,
    )
    sample = finders.find("samples/staff.csv")
    with open(sample, encoding="utf-8") as file:
        staff_import = StaffImport(file.read(), create_groups=True)
    assert staff_import.errors == []
    assert staff_import.counts == ImportCounts(3, 0, 0)
