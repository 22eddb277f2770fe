"""Inter-annotator agreement. Pure modules: numpy only, no Django.

- :mod:`.units` turns article text and spans into units (tokens or characters) and per-unit
  categories, and states the rules for unmarked, missing and overlapping spans.
- :mod:`.measures` holds the coefficients, each computed from counts (confusion and
  coincidence matrices, span matches, unitizing sums) and each citing its source.
- :mod:`.stats` computes the additive per-article, per-pair statistics for many articles
  at once, so that sums over articles give pooled figures.
- :mod:`.report` aggregates stored statistics into the report (the API's shape).
"""
