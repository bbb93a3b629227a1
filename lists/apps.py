from django.apps import AppConfig


class ListsConfig(AppConfig):
    """List pages searched, filtered, sorted and paged from the query string, their cache, and
    the CSV files they export."""

    name = "lists"
