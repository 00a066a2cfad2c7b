"""Font choice for matplotlib figures that show Hangul and other CJK text."""

from __future__ import annotations

__all__ = ["CJK_FAMILIES", "cjk_font_family", "text_families"]

#: Families searched in order; the Noto CJK JP/SC/TC faces contain Hangul too.
CJK_FAMILIES = (
    "NanumGothic",
    "Nanum Gothic",
    "NanumBarunGothic",
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Source Han Sans KR",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "UnDotum",
    "Baekmuk Gulim",
)


def cjk_font_family() -> str | None:
    """Return the name of an installed font family that has Hangul glyphs.

    Looks in matplotlib's font list (``matplotlib.font_manager.fontManager``),
    which matplotlib caches: after installing a font (e.g. ``apt-get install
    fonts-nanum``), delete matplotlib's cache directory
    (``matplotlib.get_cachedir()``) so it is found.

    Returns
    -------
    str or None
        The first of :data:`CJK_FAMILIES` that is installed, or ``None``.
    """
    from matplotlib import font_manager

    for attempt in range(2):
        installed = {entry.name for entry in font_manager.fontManager.ttflist}
        for family in CJK_FAMILIES:
            if family in installed:
                return family
        if attempt == 0 and not _register_system_cjk_fonts():
            break
    return None


_SCANNED: list[bool] = []
_FILE_PREFIXES = ("nanumgothic", "nanumbarungothic", "notosanscjk", "notosanskr",
                  "sourcehansans", "malgun", "applesdgothicneo", "applegothic", "undotum")


def _register_system_cjk_fonts() -> bool:
    """Add installed CJK font files that matplotlib's cached font list predates.

    matplotlib caches its font list; a font installed after the cache was
    built (``apt-get install fonts-nanum``) is invisible until the cache is
    deleted. This looks for such files once per process and registers them
    with ``fontManager.addfont`` (nothing is written to the cache).

    Returns
    -------
    bool
        Whether any font was added.
    """
    if _SCANNED:
        return False
    _SCANNED.append(True)
    import os

    from matplotlib import font_manager

    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    added = False
    for path in font_manager.findSystemFonts():
        base = os.path.basename(path).lower().replace("-", "").replace("_", "")
        if path not in known and base.startswith(_FILE_PREFIXES):
            try:
                font_manager.fontManager.addfont(path)
                added = True
            except (OSError, RuntimeError, ValueError):
                continue
    return added


def text_families() -> list[str]:
    """Return the font families for figure text: DejaVu Sans, then a CJK family if any.

    matplotlib falls back glyph by glyph along this list, so Latin letters,
    digits and symbols keep matplotlib's default face (NanumGothic draws
    ``<`` as a thin angle bracket, which made LIME's rules ``a < x <= b``
    hard to read) and Hangul and other CJK text come from the CJK family.

    Returns
    -------
    list of str
    """
    family = cjk_font_family()
    return ["DejaVu Sans"] if family is None else ["DejaVu Sans", family]
