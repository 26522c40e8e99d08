"""The one exception type that reaches the user as a one-line message (exit code 2)."""


class FacetoryError(Exception):
    """An error caused by input or environment, with a message a person can act on."""
