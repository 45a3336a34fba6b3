"""Fixes: rules describe rewrites on syntax nodes; the fixer applies them as text edits."""
