"""Assistance that offers spans without deciding for editors: pure code (no Django import)."""
