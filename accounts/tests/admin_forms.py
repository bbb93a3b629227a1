"""What the admin's staff change form posts, for tests that go through it."""


def admin_change_data(staff, **changes):
    """The admin change form's fields for this staff member, as a browser would post them."""
    data = {
        "email": staff.email,
        "first_name": staff.first_name,
        "last_name": staff.last_name,
        "subject_group": staff.subject_group_id or "",
        "date_joined_0": staff.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": staff.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
    }
    for flag in ["is_active", "is_staff", "is_superuser"]:
        if getattr(staff, flag):
            data[flag] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
