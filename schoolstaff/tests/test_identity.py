"""The site's mark: in the navbar, as the favicon, and at /favicon.ico."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from pytest_django.asserts import assertContains

pytestmark = pytest.mark.django_db

MARK = "/static/img/schoolstaff.svg"


def test_favicon_ico_leads_to_the_mark_without_signing_in(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == MARK
    assert finders.find("img/schoolstaff.svg")


@pytest.mark.parametrize("url_name", ["login", "password_reset"])
def test_every_page_names_the_mark_as_its_icon_and_shows_it_beside_the_name(client, url_name):
    response = client.get(reverse(url_name))

    assertContains(response, f'<link rel="icon" href="{MARK}" type="image/svg+xml">', html=True)
    assertContains(response, f'<img src="{MARK}" alt="" width="28" height="28">', html=True)
