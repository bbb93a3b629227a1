"""A secret key for one machine's development and `make serve`, kept out of the repository."""

import os
import secrets
from pathlib import Path

# Beside manage.py (ignored by git), unless DJANGO_SECRET_KEY_FILE names another place.
KEY_FILE = Path(__file__).resolve().parent.parent / ".secret_key"


def local_secret_key(path=None):
    """The key in `path`, made on first use, readable by its owner only."""
    path = Path(path or os.environ.get("DJANGO_SECRET_KEY_FILE") or KEY_FILE)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        # Created with the owner's permissions alone; exclusive, should two processes race.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as file:
            file.write(key + "\n")
        return key


if __name__ == "__main__":
    print(local_secret_key())
