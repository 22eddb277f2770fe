"""Asking a project's ML backend for predictions on newly imported articles.

Label Studio's ML-backend idea, kept small: after an import commits, the app POSTs the new
articles (in batches of ML_BACKEND_BATCH) with the project's labels and fact schema to
``Project.ml_backend_url`` and stores what comes back through the same checks and write as
``POST /api/projects/{slug}/predictions/``. The request body::

    {"project": "slug",
     "labels": [{"key": "ACTOR", "name": "Actor",
                 "attributes": [{"key", "name", "type", "choices", "min", "required"}]}],
     "relation_types": [{"key": "SAID_BY", "name": "said by", "from": [...] | null,
                         "to": [...] | null}],
     "articles": [{"id": external_id, "title": "...", "text": "..."}]}

The answer is JSON Lines (one prediction line per article, the upload's shape) or a JSON array
of the same objects. An import never fails because of the backend: a timeout (all batches
together get ML_BACKEND_TIMEOUT seconds), a refused connection, an HTTP error, a body that is
not JSON or predictions that do not fit are logged, recorded on the project
(``ml_backend_error``) and reported with the import's result; the articles stay imported.

SSRF: the URL is followed only if it is http(s), has no user:password, and its host resolves
to public addresses (loopback, private, link-local and reserved addresses need
ML_BACKEND_ALLOW_PRIVATE); redirects are not followed. The address is checked before the
request and resolved again by the HTTP client, so a DNS server that changes its answer in
between (DNS rebinding) is not stopped: run the app where its network cannot reach what it
must not.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from ..models import Article, Project
from ..models.facts import load_facts
from .predictions import PredictionResult, upload_predictions

logger = logging.getLogger("annotate.ml_backend")
USER_AGENT = "annotate-ml-client/1"


class BackendError(Exception):
    """Why asking the backend did not give predictions, for a manager to read."""


@dataclass
class BackendOutcome:
    """What asking the backend gave: spans stored, or the problem (the import stands)."""

    articles: int = 0  # articles sent
    created: int = 0  # predicted spans stored
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"articles": self.articles, "created": self.created, "error": self.error or None}


def url_problem(url: str) -> str | None:
    """Why a backend URL may not be set (None: it may): only http and https, with a host and
    no user:password (credentials would be shown to every manager; use a token in the
    path). Where it points is checked when it is called (:func:`check_address`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "The ML backend URL must start with http:// or https://."
    if not parts.hostname:
        return "The ML backend URL needs a host."
    if parts.username or parts.password:
        return "The ML backend URL must not hold a user name or password."
    return None


def check_address(url: str) -> None:
    """BackendError unless every address the URL's host resolves to is public, or
    ML_BACKEND_ALLOW_PRIVATE is on."""
    problem = url_problem(url)
    if problem:
        raise BackendError(problem)
    if settings.ML_BACKEND_ALLOW_PRIVATE:
        return
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise BackendError(f"the host {parts.hostname} cannot be resolved ({exc})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            raise BackendError(
                f"the host {parts.hostname} is a private address ({address}); set "
                "ML_BACKEND_ALLOW_PRIVATE=1 to allow backends inside the network"
            )


def ask_backend(project: Project, article_ids: Sequence[int]) -> BackendOutcome:
    """Ask the project's backend for predictions on these articles and store them; never
    raises. Records the outcome on the project (``ml_backend_called_at``,
    ``ml_backend_error``)."""
    outcome = BackendOutcome()
    url = project.ml_backend_url
    if not url or not article_ids:
        return outcome
    deadline = time.monotonic() + float(settings.ML_BACKEND_TIMEOUT)
    try:
        check_address(url)
        payload = _schema(project)
        batch = max(int(settings.ML_BACKEND_BATCH), 1)
        for start in range(0, len(article_ids), batch):
            articles = list(
                Article.objects.filter(pk__in=article_ids[start : start + batch])
                .order_by("pk")
                .values("external_id", "title", "text")
            )
            body = {**payload, "articles": [_article(a) for a in articles]}
            answer = _post(url, body, deadline)
            outcome.articles += len(articles)
            stored = _store(project, answer, {a["external_id"] for a in articles})
            outcome.created += stored.created
    except BackendError as exc:
        outcome.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever the backend did, the import stands
        logger.exception("ML backend of project %s", project.slug)
        outcome.error = f"unexpected error: {exc.__class__.__name__}"
    if outcome.error:
        logger.warning("ML backend of project %s: %s", project.slug, outcome.error)
    Project.objects.filter(pk=project.pk).update(
        ml_backend_called_at=timezone.now(), ml_backend_error=outcome.error[:2000]
    )
    return outcome


def _schema(project: Project) -> dict[str, object]:
    facts = load_facts(project.pk)
    labels = [
        {
            "key": label.key,
            "name": label.name,
            "attributes": [
                {
                    "key": spec.key,
                    "name": spec.name,
                    "type": spec.type,
                    "choices": list(spec.choices),
                    "min": spec.min,
                    "required": spec.required,
                }
                for spec in facts.specs_for(label.key)
            ],
        }
        for label in project.labels.order_by("order", "key")
    ]
    relation_types = [
        {
            "key": spec.key,
            "name": spec.name,
            "from": None if spec.from_labels is None else sorted(spec.from_labels),
            "to": None if spec.to_labels is None else sorted(spec.to_labels),
        }
        for spec in facts.relations.values()
    ]
    return {"project": project.slug, "labels": labels, "relation_types": relation_types}


def _article(row: dict) -> dict[str, str]:
    return {"id": row["external_id"], "title": row["title"], "text": row["text"]}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise BackendError(f"the backend answered with a redirect ({code}); give its final URL")


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: dict, deadline: float) -> bytes:
    """The answer's body, read in a thread so that the wait ends at `deadline` whatever the
    server does (a slow trickle of bytes included)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise BackendError(f"timed out after {settings.ML_BACKEND_TIMEOUT} s (ML_BACKEND_TIMEOUT)")
    data = json.dumps(body).encode("utf-8")
    result: dict[str, object] = {}

    def fetch() -> None:
        request = urllib.request.Request(  # noqa: S310 - check_address allowed http(s) only
            url,
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/x-ndjson, application/json",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with _OPENER.open(request, timeout=remaining) as response:
                limit = settings.MAX_UPLOAD_BYTES
                body = response.read(limit + 1)
                if len(body) > limit:
                    raise BackendError(f"the answer is larger than {limit} bytes")
                result["body"] = body
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            result["error"] = exc

    worker = threading.Thread(target=fetch, name="ml-backend", daemon=True)
    worker.start()
    worker.join(remaining)
    if worker.is_alive():
        raise BackendError(
            f"timed out after {settings.ML_BACKEND_TIMEOUT} s (ML_BACKEND_TIMEOUT); the import "
            "stands, without predictions"
        )
    error = result.get("error")
    if error is not None:
        raise _explain(error)  # type: ignore[arg-type]
    return result["body"]  # type: ignore[return-value]


def _explain(error: BaseException) -> BackendError:
    if isinstance(error, BackendError):
        return error
    if isinstance(error, urllib.error.HTTPError):
        return BackendError(f"the backend answered HTTP {error.code} {error.reason}")
    if isinstance(error, urllib.error.URLError):
        return BackendError(f"cannot reach the backend: {error.reason}")
    if isinstance(error, (TimeoutError, socket.timeout)):
        return BackendError(f"timed out after {settings.ML_BACKEND_TIMEOUT} s (ML_BACKEND_TIMEOUT)")
    return BackendError(f"cannot reach the backend: {error.__class__.__name__}: {error}")


def _store(project: Project, answer: bytes, sent: set[str]) -> PredictionResult:
    """The answer as JSON Lines (or a JSON array of the same objects), stored; BackendError
    naming the first bad line otherwise."""
    from .predictions import InvalidPredictions

    text = answer.lstrip()
    if text.startswith(b"["):
        try:
            items = json.loads(answer)
        except ValueError as exc:
            raise BackendError(f"the answer is not valid JSON: {exc}") from None
        answer = "\n".join(json.dumps(item) for item in items).encode()
    if not answer.strip():
        return PredictionResult()
    try:
        return upload_predictions(project=project, data=answer, only=sent)
    except InvalidPredictions as exc:
        raise BackendError(f"the backend's predictions were refused: {exc.detail}") from None
