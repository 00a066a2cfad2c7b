"""The renderings of a single-instance Explanation, and writing them to files.

:class:`RenderingViews` is a base class of
:class:`whylens._views.ExplanationViews` (so of :class:`whylens.Explanation`):
lime's ``as_html``, ``show_in_notebook``, ``save_to_file`` and
``as_pyplot_figure``, with ``save_html`` and the notebook's ``_repr_html_``.
They import :mod:`whylens.render` and :mod:`whylens.plot` when called, never
at load time. :func:`check_destination` and :func:`write_text` take a path or
an open text file, as ``save_to_file`` does.

This module imports no representation and no explainer: it is part of the
result type, which every other part of whylens builds on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from whylens.errors import InputError, InputTypeError, MissingDependencyError, describe

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["RenderingViews", "check_destination", "write_text"]


def check_destination(argument: str, destination: Any) -> None:
    """Raise unless ``destination`` is a path (str or os.PathLike) or a text file.

    An int is refused: ``open(3)`` would write into file descriptor 3 (maybe
    the user's own open file) and close it.

    Raises
    ------
    InputTypeError
        Neither a path nor a text file, naming ``argument`` and what came.
    InputError
        An empty (or blank) path.
    """
    if isinstance(destination, (str, os.PathLike)):
        if isinstance(destination, str) and not destination.strip():
            raise InputError(describe(argument, "a file path", destination,
                                      "Name the file to write, e.g. 'explanation.html'."))
        return
    if callable(getattr(destination, "write", None)) and not isinstance(destination, type):
        return
    raise InputTypeError(describe(
        argument, "a file path (str or os.PathLike) or an open text file", destination,
        "Pass the file's name, e.g. 'explanation.html'; an int is not taken as a file "
        "descriptor."))


def write_text(argument: str, destination: Any, text: str) -> None:
    """Write ``text`` to a path (created or overwritten, UTF-8) or to an open text
    file, which is left open (only flushed).

    Raises
    ------
    InputTypeError
        ``destination`` is neither (see :func:`check_destination`), or a file
        opened in binary mode.
    """
    check_destination(argument, destination)
    if isinstance(destination, (str, os.PathLike)):
        with open(destination, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    try:
        destination.write(text)
    except TypeError as exc:  # a binary file
        raise InputTypeError(describe(
            argument, "a file opened in text mode", destination,
            "Open it with open(name, 'w', encoding='utf-8'), or pass its name.")) from exc
    flush = getattr(destination, "flush", None)
    if callable(flush):
        flush()


class RenderingViews:
    """The renderings of an explanation, for :class:`whylens.Explanation` to inherit.

    They read ``n_instances`` (of :class:`whylens._views.ExplanationViews`);
    the rest is done by :func:`whylens.render.html.explanation_html` and
    :func:`whylens.plot.bar`.
    """

    n_instances: int

    def as_html(
        self,
        labels: Sequence[int] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> str:
        """Return a standalone HTML page for this explanation (no JavaScript).

        Parameters are lime's: ``labels`` to show (default: all explained),
        ``predict_proba`` to show the class probabilities,
        ``show_predicted_value`` for regression; keyword arguments
        ``text=True``, ``opacity=True`` (text) and ``show_table=True``,
        ``show_all=False`` (tabular) as in lime.

        Returns
        -------
        str
        """
        from whylens.render.html import explanation_html

        return explanation_html(
            self, labels=labels, predict_proba=predict_proba,
            show_predicted_value=show_predicted_value, standalone=True, **kwargs,
        )

    def _repr_html_(self) -> str | None:
        if self.n_instances != 1:  # a batch (e.g. SHAP over a table): the text repr
            return None
        from whylens.render.html import explanation_html

        return explanation_html(self, standalone=False)

    def show_in_notebook(
        self,
        labels: Sequence[int] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> None:
        """Display the explanation in a Jupyter notebook (lime's signature).

        Shows the HTML fragment of :meth:`_repr_html_` (no JavaScript) through
        ``IPython.display``. The arguments are those of :meth:`as_html`, e.g.
        ``text=document`` as seed 000 passes it (any non-empty string, like
        ``True``, shows the text).

        Parameters
        ----------
        labels : sequence of int, optional
            Labels to chart; default: ``top_labels`` or every explained label.
        predict_proba : bool, default=True
        show_predicted_value : bool, default=True
        **kwargs
            ``text``, ``opacity``, ``show_table``, ``show_all``.

        Raises
        ------
        MissingDependencyError
            If IPython is not installed (an ``ImportError``, as lime raises);
            the message names the alternatives that need no notebook.
        InputError, BatchExplanationError
            As :meth:`as_html`, checked first.
        """
        from whylens.render.html import explanation_html

        fragment = explanation_html(
            self, labels=labels, predict_proba=predict_proba,
            show_predicted_value=show_predicted_value, standalone=False, **kwargs,
        )
        try:
            from IPython.display import HTML, display
        except ImportError as exc:
            raise MissingDependencyError(
                describe("show_in_notebook", "IPython (a Jupyter notebook)",
                         got_text="no IPython installed",
                         fix="Run it in Jupyter (pip install ipython), or write a page with "
                             "exp.save_html(path), or take the markup from exp.as_html().")
            ) from exc
        display(HTML(fragment))

    def save_to_file(
        self,
        file_path: str | os.PathLike[str] | TextIO,
        labels: Sequence[int] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> None:
        """Write :meth:`as_html` to ``file_path`` (lime's signature).

        Parameters
        ----------
        file_path : str, os.PathLike or text file object
            A path (the file is created or overwritten), or an open text file
            that is written to and left open.
        labels, predict_proba, show_predicted_value, **kwargs
            As :meth:`as_html`.

        Raises
        ------
        InputTypeError
            ``file_path`` is neither a path nor a text file (an int is not taken
            as a file descriptor).
        InputError, BatchExplanationError
            As :meth:`as_html`.
        """
        check_destination("file_path", file_path)
        html = self.as_html(labels, predict_proba, show_predicted_value, **kwargs)
        write_text("file_path", file_path, html)

    def save_html(self, path: str | os.PathLike[str] | TextIO, **kwargs: Any) -> None:
        """Write a standalone HTML file of this explanation to ``path``.

        Parameters
        ----------
        path : str, os.PathLike or text file object
            A path (created or overwritten), or an open text file, left open.
        **kwargs
            As :meth:`save_to_file`.

        Raises
        ------
        InputTypeError
            ``path`` is neither a path nor a text file.
        """
        check_destination("path", path)
        html = self.as_html(**kwargs)
        write_text("path", path, html)

    def as_pyplot_figure(self, label: int = 1, **kwargs: Any) -> Figure:
        """Return a matplotlib bar chart of :meth:`as_list` (lime's method).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from whylens.plot import bar

        return bar(self, label=label, **kwargs)
