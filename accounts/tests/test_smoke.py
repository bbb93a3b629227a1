from django.urls import reverse


def test_home_shows_the_signed_in_staff_member(client_as, plain_staff):
    response = client_as(plain_staff).get(reverse("home"))
    assert response.status_code == 200
    assert plain_staff.email in response.content.decode()
