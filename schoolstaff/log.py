"""Log formats: one line per event, so that each line is one event to a log collector."""

import json
import logging
from datetime import UTC, datetime


class ClientErrorFilter(logging.Filter):
    """A refused request (4xx) is one short line: its traceback is the expected refusal."""

    def filter(self, record):
        if 400 <= getattr(record, "status_code", 0) < 500:
            record.exc_info = record.exc_text = None
        return True


class OneLineFormatter(logging.Formatter):
    """Plain text, with a traceback's line breaks escaped rather than spread over lines."""

    def format(self, record):
        return super().format(record).replace("\n", "\\n")


class JSONFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the traceback if any."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if status_code := getattr(record, "status_code", None):
            entry["status"] = status_code
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
