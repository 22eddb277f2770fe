"""Standing users and a project: manager, reviewer, two editors, and an outsider."""

from __future__ import annotations

import pytest
from django.test import Client

from annotate.models import Role

from .factories import PASSWORD, make_member, make_project, make_user


@pytest.fixture
def project(db):
    return make_project("demo-news")


@pytest.fixture
def editor(project):
    return make_member(project, make_user("edith"), Role.EDITOR)


@pytest.fixture
def other_editor(project):
    return make_member(project, make_user("otto"), Role.EDITOR)


@pytest.fixture
def reviewer(project):
    return make_member(project, make_user("rita"), Role.REVIEWER)


@pytest.fixture
def manager(project):
    return make_member(project, make_user("manon"), Role.MANAGER)


@pytest.fixture
def outsider(db):
    """A user who belongs to another project only."""
    other = make_project("elsewhere")
    return make_member(other, make_user("oscar"), Role.MANAGER)


@pytest.fixture
def admin_user(db):
    return make_user("root", is_staff=True, is_superuser=True)


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def client_for():
    """`client_for(user)`: a test client logged in as that user."""
    return login
