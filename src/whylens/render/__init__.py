"""HTML rendering of explanations: notebook fragments and standalone pages, no JavaScript.

>>> from whylens.render import explanation_html, page
"""

from whylens.render.html import (
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    escape,
    explanation_html,
    page,
)

__all__ = ["NEGATIVE_COLOR", "POSITIVE_COLOR", "escape", "explanation_html", "page"]
