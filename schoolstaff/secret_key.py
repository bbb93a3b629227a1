"""A secret key for one machine's development and `make serve`, kept out of the repository."""

import os
import secrets
from pathlib import Path

KEY_FILE = Path(__file__).resolve().parent.parent / ".secret_key"


def local_secret_key(path=KEY_FILE):
    """The key in `path` (ignored by git), made on first use, readable by its owner only."""
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
