"""Several app servers on one PostgreSQL, as deployed: three gunicorn processes, each with its
own working, temporary and static directories, share nothing but the database, and the test
drives them in turn over real HTTP.

- the login throttle holds across them: attempts spread so that no server alone sees the
  limit are still stopped at the limit, and then the right password is refused everywhere;
- 20 writers spread over the servers with one base version: exactly one wins, 19 get 409;
- agreement statistics written by submits through different servers, some at once, are
  exactly those of a full recompute;
- a release made through one server downloads byte-identically from the others.

The servers run the production settings module through ``tests.settings`` (DEBUG off, a
strong SECRET_KEY, ALLOWED_HOSTS) with its two speed-only swaps: static files served from the
finders (a compressed ``collectstatic`` takes half a minute on a loaded machine) and MD5
password hashes, the ones this process writes when it makes users. One server uses
persistent connections (DB_CONN_MAX_AGE), one a psycopg pool (DB_POOL=1), one neither.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from annotate import throttle
from annotate.models import (
    AgreementTotal,
    AnnotationVersion,
    ArticleAgreement,
    Release,
    Role,
)
from annotate.services import agreement as agreement_service

from .factories import PASSWORD, make_article, make_member, make_project, make_user

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 180.0  # seconds for every server to answer, on a heavily loaded machine
REQUEST_TIMEOUT = 120.0
JOIN_TIMEOUT = 240.0
WRITERS = 20

# One extra setting per server: how each keeps its database connections.
SERVER_SETTINGS = [
    {"DB_CONN_MAX_AGE": "60"},
    {"DB_POOL": "1", "DB_POOL_MAX": "2"},
    {},
]

TEXT = (
    "Rebels shelled Aleppo on Monday, killing 12 people, officials in Damascus said. "
    "The Red Crescent reached the northern province overnight, witnesses told Reuters."
)
WORDS = [f"w{i:02d}" for i in range(WRITERS)]
RACE_TEXT = "Base. " + " ".join(WORDS)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
    ),
]


# --- The servers -----------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    home: Path
    process: subprocess.Popen


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The pytest-django test database, which the test process has created and migrated."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "postgres")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or HOST}:{db['PORT'] or 5432}/{db['NAME']}"


def start(name: str, base: Path, secret_key: str, extra: dict[str, str]) -> Server:
    home = base / name
    for sub in ("tmp", "static"):
        (home / sub).mkdir(parents=True)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "SECRET_KEY": secret_key,
        "DEBUG": "0",
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "TMPDIR": str(home / "tmp"),
        "STATIC_ROOT": str(home / "static"),
        **extra,
    }
    argv = [
        str(Path(sys.executable).parent / "gunicorn"),
        "annotate.wsgi",
        "--workers", "2",
        "--preload",
        "--bind", f"{HOST}:{port}",
        "--timeout", "120",
        "--log-level", "warning",
        "--error-logfile", str(home / "error.log"),
    ]  # fmt: skip
    process = subprocess.Popen(
        argv,
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Server(name, port, home, process)


def wait_until_answering(server: Server, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = (server.home / "error.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"server {server.name} exited at start:\n{log}")
        try:
            if call(server, "GET", "/login/", timeout=10).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server {server.name} did not answer within {START_TIMEOUT:.0f} s")


def stop(servers: list[Server]) -> None:
    """SIGQUIT (gunicorn's quick shutdown) to every server's process group at once, SIGKILL
    to any still there after 20 s."""
    for server in servers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGQUIT)
    deadline = time.monotonic() + 20
    for server in servers:
        try:
            server.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(10)


@pytest.fixture(scope="module")
def servers(django_db_setup) -> Iterator[list[Server]]:
    """Three app servers on the test database; always stopped, whatever happened."""
    base = Path(tempfile.mkdtemp(prefix="annotate-servers-"))
    secret_key = secrets.token_urlsafe(50)
    started: list[Server] = []
    try:
        for n, extra in enumerate(SERVER_SETTINGS):
            started.append(start("abc"[n], base, secret_key, extra))
        deadline = time.monotonic() + START_TIMEOUT
        for server in started:
            wait_until_answering(server, deadline)
        yield started
    finally:
        stop(started)
        shutil.rmtree(base, ignore_errors=True)


# --- HTTP ------------------------------------------------------------------------------------


def call(
    server: Server,
    method: str,
    path: str,
    *,
    token: str | None = None,
    data: object = None,
    form: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Reply:
    headers = {"Host": HOST, "Connection": "close"}
    body = None
    if token:
        headers["Authorization"] = f"Token {token}"
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn = http.client.HTTPConnection(HOST, server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def cookie(reply: Reply, name: str) -> str | None:
    for header in reply.headers.get_all("Set-Cookie") or []:
        if header.startswith(name + "="):
            return header.split(";", 1)[0].split("=", 1)[1]
    return None


@dataclass(frozen=True)
class LoginForm:
    """The CSRF cookie and form token of one server's login page (reusable: CSRF is
    stateless, a pair stays valid)."""

    server: Server
    cookie: str
    token: str


def login_form(server: Server) -> LoginForm:
    page = call(server, "GET", "/login/")
    csrf = cookie(page, "csrftoken")
    field = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert page.status == 200 and csrf and field, page.status
    return LoginForm(server, csrf, field.group(1).decode())


def log_in(form: LoginForm, username: str, password: str) -> str:
    """ "in", "wrong" (the password was checked and refused) or "throttled" (not checked)."""
    reply = call(
        form.server,
        "POST",
        "/login/",
        form={"csrfmiddlewaretoken": form.token, "username": username, "password": password},
        cookies={"csrftoken": form.cookie},
    )
    if reply.status == 302 and cookie(reply, "sessionid"):
        return "in"
    text = reply.body.decode()
    if reply.status == 200 and throttle.THROTTLED_MESSAGE in text:
        return "throttled"
    if reply.status == 200 and "Please enter a correct" in text:
        return "wrong"
    raise AssertionError(f"unexpected login answer {reply.status}: {text[:500]}")


def token_for(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def in_threads(count: int, work: Callable[[int], Reply]) -> list[Reply]:
    """work(i) in `count` threads released together; every reply, or the test fails."""
    barrier = threading.Barrier(count)
    replies: list[Reply | BaseException | None] = [None] * count

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            replies[i] = work(i)
        except BaseException as error:  # noqa: BLE001 - reported below
            replies[i] = error

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    assert all(isinstance(r, Reply) for r in replies), replies
    return replies  # type: ignore[return-value]


def span(text: str, word: str, label: str) -> dict:
    start = text.index(word)
    return {"start": start, "end": start + len(word), "label": label}


def keys(spans: list[dict]) -> list[tuple[int, int, str]]:
    return sorted((s["start"], s["end"], s["label"]) for s in spans)


# --- The cases -------------------------------------------------------------------------------


def test_the_login_throttle_holds_across_servers(servers):
    user = make_user("sam")
    forms = [login_form(server) for server in servers]
    assert log_in(forms[0], "sam", PASSWORD) == "in"
    # Spread over three servers, no server sees more than 4 of the 10 wrong passwords: only
    # a count shared through the database reaches the limit.
    outcomes = [
        log_in(forms[n % len(forms)], "sam", "wrong-password")
        for n in range(throttle.LOGIN_ATTEMPTS)
    ]
    assert outcomes == ["wrong"] * throttle.LOGIN_ATTEMPTS
    for form in forms:
        assert log_in(form, "sam", "wrong-password") == "throttled", form.server.name
        assert log_in(form, "sam", PASSWORD) == "throttled", form.server.name
    # Every attempt on every server was counted in the one row: 10 checked, 6 refused unchecked.
    assert throttle.count("login-user", user.username) == throttle.LOGIN_ATTEMPTS + 2 * len(servers)


def test_concurrent_writers_on_different_servers_one_wins_the_rest_get_409(servers):
    project = make_project("race")
    editor = make_member(project, make_user("edith"), Role.EDITOR)
    article = make_article(project, RACE_TEXT, editors=[editor])
    token = token_for(editor)
    url = f"/api/articles/{article.pk}/annotation/"
    base = span(RACE_TEXT, "Base", "SOURCE")
    first = call(servers[0], "PUT", url, token=token, data={"base_version": 0, "spans": [base]})
    assert first.status == 200, first.body[:500]
    assert first.json()["version"] == 1

    def write(i: int) -> Reply:
        spans = [base, span(RACE_TEXT, WORDS[i], "ACTOR")]
        server = servers[i % len(servers)]
        return call(server, "PUT", url, token=token, data={"base_version": 1, "spans": spans})

    replies = in_threads(WRITERS, write)
    statuses = [reply.status for reply in replies]
    assert sorted(statuses) == [200] + [409] * (WRITERS - 1), statuses
    winner = statuses.index(200)
    assert {n % len(servers) for n, s in enumerate(statuses) if s == 409} == {0, 1, 2}
    for reply in replies:
        if reply.status == 409:
            refused = reply.json()
            assert refused["current_version"] == 2 and refused["detail"], refused
    expected = keys([base, span(RACE_TEXT, WORDS[winner], "ACTOR")])
    assert keys(replies[winner].json()["spans"]) == expected
    for server in servers:
        state = call(server, "GET", url, token=token).json()
        assert (state["version"], keys(state["spans"])) == (2, expected), server.name
    assert AnnotationVersion.objects.filter(annotation__article=article).count() == 2


def stored_agreement(project) -> tuple[dict, dict]:
    rows = {
        (row.article_id, row.unit): (row.editors, row.versions, row.stats, row.score, row.units)
        for row in ArticleAgreement.objects.filter(project=project)
    }
    totals = {
        (total.unit, total.group): (total.articles, total.stats)
        for total in AgreementTotal.objects.filter(project=project)
    }
    return rows, totals


AGREEMENT_LABELS = ["ACTOR", "LOCATION", "CASUALTY", "SOURCE"]
AGREEMENT_WORDS = ["Rebels", "Aleppo", "12 people", "officials", "Red Crescent", "Reuters"]


def editor_spans(article_n: int, editor_n: int, round_n: int) -> list[dict]:
    """Deterministic, different enough between editors to give non-trivial statistics."""
    chosen = [
        word
        for w, word in enumerate(AGREEMENT_WORDS)
        if (w + article_n + editor_n * round_n) % 3 != editor_n % 3
    ]
    return [
        span(TEXT, word, AGREEMENT_LABELS[(w + editor_n * (w % 2)) % 4])
        for w, word in enumerate(chosen)
    ]


def test_agreement_statistics_from_several_servers_equal_a_full_recompute(servers):
    project = make_project("agree")
    editors = [make_member(project, make_user(f"ed{n}"), Role.EDITOR) for n in range(3)]
    manager = make_member(project, make_user("manon"), Role.MANAGER)
    articles = [make_article(project, TEXT, editors=editors) for _ in range(4)]
    tokens = [token_for(editor) for editor in editors]
    pairs = [(a, e) for a in range(len(articles)) for e in range(len(editors))]

    def submit(i: int, round_n: int, base_version: int) -> Reply:
        a, e = pairs[i]
        return call(
            servers[i % len(servers)],
            "PUT",
            f"/api/articles/{articles[a].pk}/annotation/",
            token=tokens[e],
            data={
                "base_version": base_version,
                "spans": editor_spans(a, e, round_n),
                "submit": True,
            },
        )

    # Every editor submits every article, all at once, then half of them correct it at once.
    first = in_threads(len(pairs), lambda i: submit(i, 1, 0))
    assert [r.status for r in first] == [200] * len(pairs), [r.body[:200] for r in first]
    corrected = [i for i in range(len(pairs)) if i % 2 == 0]
    second = in_threads(len(corrected), lambda n: submit(corrected[n], 2, 1))
    assert [r.status for r in second] == [200] * len(corrected)

    manager_token = token_for(manager)
    report_url = f"/api/projects/{project.slug}/agreement/"
    reports = [call(server, "GET", report_url, token=manager_token) for server in servers]
    assert [r.status for r in reports] == [200] * len(servers)
    report = reports[0].json()
    assert report["articles_compared"] == len(articles)
    assert all(r.json() == report for r in reports)
    incremental = stored_agreement(project)
    assert incremental[0] and incremental[1]

    agreement_service.recompute_project(project)
    assert stored_agreement(project) == incremental
    assert call(servers[1], "GET", report_url, token=manager_token).json() == report


def test_a_release_made_on_one_server_downloads_identically_from_the_others(servers):
    project = make_project("release")
    reviewer = make_member(project, make_user("rita"), Role.REVIEWER)
    token = token_for(reviewer)
    articles = [make_article(project, TEXT, external_id=f"r{n}") for n in range(3)]
    for n, article in enumerate(articles):
        gold = {
            "base_version": 0,
            "spans": [span(TEXT, AGREEMENT_WORDS[n], "ACTOR"), span(TEXT, "Reuters", "SOURCE")],
            "final": True,
        }
        put = call(servers[n], "PUT", f"/api/articles/{article.pk}/gold/", token=token, data=gold)
        assert put.status == 200, put.body[:500]

    releases = f"/api/projects/{project.slug}/releases/"
    made = call(servers[0], "POST", releases, token=token, data={"name": "v1"})
    assert made.status == 201, made.body[:500]
    sha = made.json()["sha256"]
    assert sha == Release.objects.get(project=project).sha256

    downloads = [
        call(server, "GET", releases + "v1/download/?format=jsonl", token=token)
        for server in servers[1:] + servers[:1]
    ]
    assert [d.status for d in downloads] == [200] * len(servers)
    for download in downloads:
        assert hashlib.sha256(download.body).hexdigest() == sha
        assert download.headers["X-Content-SHA256"] == sha
    assert len({d.body for d in downloads}) == 1
    assert len(downloads[0].body.splitlines()) == len(articles)
