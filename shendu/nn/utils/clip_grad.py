"""Placeholder: filled in by the optim work (see the issue)."""

__all__ = []
