"""The Django admin, for admins who do real work there: every model, with the article text
shown highlighted, history read-only, and writes going through the domain services."""

from . import annotations, jobs, predictions, projects, users, workflow  # noqa: F401 - importing registers the model admins
