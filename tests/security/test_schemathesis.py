"""Schemathesis fuzzes every operation of the served OpenAPI schema: no 500, and every
response (errors included) matches what the schema documents.

Each operation is fuzzed twice: with path parameters pinned to real objects of a seeded
project (so the requests reach the code behind the permission checks) and with generated
ones (mostly 404s). Every example runs in a savepoint that is rolled back, so a fuzzed
DELETE or PATCH cannot change what the next example sees. Hypothesis runs derandomized,
so CI sees the same examples every time; raise FUZZ_EXAMPLES locally for a longer hunt.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    not_a_server_error,
)
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from annotate.models import Job, Role
from annotate.services.releases import create_release
from annotate.services.review import accept_agreed, set_final
from tests.factories import make_annotation, make_article, make_member, make_project, make_user

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


@schemathesis.serializer("application/x-ndjson")
def _json_lines(context, value) -> bytes:
    """JSON Lines bodies (the predictions upload): a generated object is one line."""
    return json.dumps(value).encode()


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


@pytest.fixture
def seeded(db, settings, request):
    """A project with editors' work, a final gold and a release; its manager's token."""
    settings.ALLOWED_HOSTS = ["*"]
    # As Django's test client does: the WSGI handler must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    request.addfinalizer(lambda: signals.request_started.connect(close_old_connections))
    request.addfinalizer(lambda: signals.request_finished.connect(close_old_connections))
    project = make_project("fuzz")
    manager = make_member(project, make_user("fuzz-manager"), Role.MANAGER)
    editors = [make_member(project, make_user(f"fuzz-ed{n}"), Role.EDITOR) for n in (1, 2)]
    article = make_article(project, external_id="fuzz-1", editors=[*editors, manager])
    closed = make_article(project, external_id="fuzz-2", editors=editors)
    for editor in editors:
        for each in (article, closed):
            make_annotation(each, editor, [(0, 6, "ACTOR"), (15, 21, "LOCATION")], submit=True)
    make_annotation(article, manager, [(0, 6, "ACTOR")])
    accept_agreed(article, manager, role=Role.MANAGER, min_editors=2, base_version=0)
    accept_agreed(closed, manager, role=Role.MANAGER, min_editors=2, base_version=0)
    set_final(closed, manager, role=Role.MANAGER, final=True, base_version=1)
    create_release(project=project, name="v1", user=manager)
    job = Job.objects.create(project=project, kind=Job.Kind.IMPORT, started_by=manager, total=2)
    return {
        "token": Token.objects.create(user=manager).key,
        "path": {
            "slug": project.slug,
            "article_id": article.pk,
            "username": editors[0].username,
            "number": 1,
            "name": "v1",
            "job_id": job.pk,
        },
        "project": project,
        "manager": manager,
        "article": article,
    }


def _fuzz(operation, strategy_mode, pinned, headers: dict[str, str]) -> int:
    strategy = operation.as_strategy(strategy_mode, path_parameters=pinned)
    calls = 0

    @given(case=strategy)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case) -> None:
        nonlocal calls
        with transaction.atomic():
            response = case.call(headers=headers)
            transaction.set_rollback(True)
        calls += 1
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # Negative mode has nothing to break in an operation whose only inputs are pinned.
        assert strategy_mode is GenerationMode.NEGATIVE, operation.label
    return calls


def test_fuzzing_the_api_finds_no_server_error_and_no_schema_violation(seeded):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    headers = {"Authorization": f"Token {seeded['token']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    calls = 0
    for operation in operations:
        names = {parameter.name for parameter in operation.path_parameters}
        pinned = {name: seeded["path"][name] for name in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            calls += _fuzz(operation, mode, pinned, headers)
        if names:
            calls += _fuzz(operation, GenerationMode.POSITIVE, None, headers)
    print(f"schemathesis: {len(operations)} operations, {calls} requests")
    assert calls >= len(operations) * EXAMPLES
