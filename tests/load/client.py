"""A signed-in browser, as far as the load test needs one: cookies, forms, timings."""

import http.client
import threading
import time
import urllib.parse
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie

# A request that got no HTTP answer (refused, reset, timed out) has this status.
CONNECTION_ERROR = "conn"


@dataclass
class Answer:
    """One request and what came back."""

    kind: str
    method: str
    path: str
    started: float
    ended: float
    status: int | str
    location: str = ""
    body: str = ""
    error: str = ""

    @property
    def seconds(self):
        return self.ended - self.started

    @property
    def ok(self):
        return isinstance(self.status, int) and self.status < 400

    @property
    def server_error(self):
        return isinstance(self.status, int) and self.status >= 500


class Recorder:
    """Every answer of a scenario, from every client thread."""

    def __init__(self):
        self.answers = []
        self._lock = threading.Lock()

    def add(self, answer):
        with self._lock:
            self.answers.append(answer)

    def snapshot(self):
        with self._lock:
            return list(self.answers)


class SignInFailed(Exception):
    pass


class Browser:
    """Cookies kept between requests, redirects not followed, one connection per request."""

    def __init__(self, host, port, recorder, timeout=30):
        self.host = host
        self.port = port
        self.recorder = recorder
        self.timeout = timeout
        self.cookies = {}

    def request(self, kind, method, path, fields=None):
        headers = {"Host": f"{self.host}:{self.port}", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            answer = Answer(
                kind,
                method,
                path,
                started,
                time.monotonic(),
                response.status,
                location=response.headers.get("Location", ""),
                body=text,
            )
        except (OSError, http.client.HTTPException) as error:
            answer = Answer(
                kind,
                method,
                path,
                started,
                time.monotonic(),
                CONNECTION_ERROR,
                error=f"{type(error).__name__}: {error}",
            )
        finally:
            connection.close()
        self.recorder.add(answer)
        return answer

    def get(self, kind, path):
        return self.request(kind, "GET", path)

    def post(self, kind, path, fields):
        return self.request(kind, "POST", path, fields)

    def sign_in(self, email, password):
        """Sign in through the login form; never retried, so that no lockout can follow."""
        page = self.get("sign-in", "/accounts/login/")
        form = find_form(page.body, "username") if page.status == 200 else None
        if form is None:
            raise SignInFailed(f"GET /accounts/login/ answered {page.status} {page.error}")
        fields = dict(form.fields, username=email, password=password)
        answer = self.post("sign-in", "/accounts/login/", fields)
        if answer.status != 302 or "sessionid" not in self.cookies:
            raise SignInFailed(f"POST /accounts/login/ for {email} answered {answer.status}")


class Form:
    def __init__(self, action):
        self.action = action
        self.fields = {}  # name -> value, every field a browser would submit
        self.options = {}  # select name -> its option values


class FormParser(HTMLParser):
    """Collect each <form> with the values a browser would submit unchanged."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.form = None
        self.select = None
        self.select_first = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.form = Form(attrs.get("action") or "")
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input" and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self.form.fields[attrs["name"]] = attrs.get("value") or (
                "on" if kind in {"checkbox", "radio"} else ""
            )
        elif tag == "select" and attrs.get("name"):
            self.select = attrs["name"]
            self.select_first = None
            self.form.options[self.select] = []
        elif tag == "option" and self.select:
            value = attrs.get("value", "")
            self.form.options[self.select].append(value)
            if self.select_first is None:
                self.select_first = value
            if "selected" in attrs:
                self.form.fields[self.select] = value
        elif tag == "textarea" and attrs.get("name"):
            self.textarea = attrs["name"]
            self.form.fields[self.textarea] = ""

    def handle_data(self, data):
        if self.textarea:
            self.form.fields[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select" and self.select:
            # A select with nothing selected submits its first option.
            self.form.fields.setdefault(self.select, self.select_first or "")
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def find_form(html, field_name):
    """The first form on the page that has a field called `field_name`, or None."""
    parser = FormParser()
    parser.feed(html)
    return next((form for form in parser.forms if field_name in form.fields), None)
