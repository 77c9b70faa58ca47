"""Placeholder: filled in by the nn work (see the issue)."""

__all__ = []
