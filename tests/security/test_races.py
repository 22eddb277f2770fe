"""Concurrent creates of one unique name: a project slug, a label key, a label hotkey.

One request wins; every other is told, 409 (the race was lost at the database) or 400 (the
winner was already visible to the check), with a message, never a 500; the data stays as one
winner left it. The threaded tests release twenty requests together; the deterministic ones
replay the lost race by letting the check miss the winner, as it does in a real race."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from annotate.models import Label, Membership, Project
from annotate.services import projects as project_service

from ..api_support import api, assert_error

THREADS = 20
LABELS = [{"key": "ACTOR", "name": "Actor", "color": "#ffd966", "hotkey": "1"}]

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
)


def run_in_threads(work: Callable[[int], object]) -> list[object]:
    """work(i) in THREADS threads released together; each result or raised error."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - collected and asserted by the test
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results


def assert_one_winner(results: list[object]) -> None:
    statuses = [getattr(r, "status_code", r) for r in results]
    assert statuses.count(201) == 1, statuses
    for response in results:
        if response.status_code != 201:
            assert response.status_code in (400, 409), statuses
            assert_error(response, response.status_code)


# --- threads (PostgreSQL: real row locks and concurrent transactions) ----------------------


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_twenty_creates_of_one_slug_make_one_project(manager):
    def work(i: int):
        return api(manager).post(
            "/api/projects/",
            {"slug": "race", "name": f"Race {i}", "labels": LABELS},
            format="json",
        )

    assert_one_winner(run_in_threads(work))
    project = Project.objects.get(slug="race")
    assert project.labels.count() == 1
    assert Membership.objects.filter(project=project).count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_twenty_labels_with_one_key_make_one_label(project, manager):
    def work(i: int):
        return api(manager).post(
            f"/api/projects/{project.slug}/labels/",
            {"key": "RACE", "name": f"Race {i}", "hotkey": chr(ord("a") + i)},
            format="json",
        )

    assert_one_winner(run_in_threads(work))
    assert Label.objects.filter(project=project, key="RACE").count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_twenty_labels_with_one_hotkey_make_one_label(project, manager):
    def work(i: int):
        return api(manager).post(
            f"/api/projects/{project.slug}/labels/",
            {"key": f"RACE_{i}", "name": f"Race {i}", "hotkey": "z"},
            format="json",
        )

    assert_one_winner(run_in_threads(work))
    assert Label.objects.filter(project=project, hotkey="z").count() == 1
    orders = list(Label.objects.filter(project=project).values_list("order", flat=True))
    assert len(orders) == len(set(orders))


# --- the lost race, replayed --------------------------------------------------------------


def test_a_slug_taken_after_the_check_is_a_409(manager, monkeypatch):
    """The serializer's check saw no project "race"; another request created it since."""
    Project.objects.create(slug="race", name="The winner")
    monkeypatch.setattr(
        "annotate.api.serializers.projects.ProjectSerializer.validate_slug", lambda s, v: v
    )
    response = api(manager).post(
        "/api/projects/", {"slug": "race", "name": "Late", "labels": LABELS}, format="json"
    )
    data = assert_error(response, 409)
    assert "race" in data["detail"] and "same time" in data["detail"]
    assert Project.objects.filter(slug="race").get().name == "The winner"
    assert not Membership.objects.filter(project__slug="race").exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"key": "ACTOR", "name": "Same key", "hotkey": "x"},
        {"key": "OTHER", "name": "Same hotkey", "hotkey": "1"},
    ],
)
def test_a_label_clash_the_check_missed_is_a_409(project, manager, monkeypatch, fields):
    monkeypatch.setattr("annotate.api.projects.check_label_set", lambda *args: None)
    before = Label.objects.filter(project=project).count()
    response = api(manager).post(f"/api/projects/{project.slug}/labels/", fields, format="json")
    data = assert_error(response, 409)
    assert "same time" in data["detail"]
    assert Label.objects.filter(project=project).count() == before


def test_a_clash_the_check_sees_is_a_400_naming_it(project, manager):
    response = api(manager).post(
        f"/api/projects/{project.slug}/labels/",
        {"key": "ACTOR", "name": "Again", "hotkey": "x"},
        format="json",
    )
    assert "ACTOR" in assert_error(response, 400)["detail"]


def test_labels_stop_before_their_order_column_overflows(project, manager, monkeypatch):
    monkeypatch.setattr(project_service, "MAX_LABELS_PER_PROJECT", 4)  # the project has 4
    response = api(manager).post(
        f"/api/projects/{project.slug}/labels/", {"key": "FIFTH", "name": "Fifth"}, format="json"
    )
    assert "at most 4 labels" in assert_error(response, 400)["detail"]
