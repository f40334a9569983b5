"""The failures a caller can fix; each carries one sentence the model can act on."""


class TimeError(Exception):
    """A zone or time the caller gave cannot be used; the message says why and what would work."""
