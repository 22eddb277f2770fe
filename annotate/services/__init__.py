"""Writes that both the web pages and the API perform: keyword-only, typed, atomic."""
