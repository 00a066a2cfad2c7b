"""matplotlib figures of explanations; nothing here calls ``plt.show()``.

>>> from whylens.plot import bar
"""

from whylens.plot._bar import bar
from whylens.plot._fonts import cjk_font_family

__all__ = ["bar", "cjk_font_family"]
