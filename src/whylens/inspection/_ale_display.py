"""``ALEDisplay``: accumulated local effects drawn in scikit-learn's Display style.

``from_estimator`` computes (:func:`~whylens.inspection.accumulated_local_effects`)
and plots, ``from_result`` plots a result already computed (or read back from
JSON), ``plot(ax=...)`` draws and keeps the artists as attributes. Nothing
here calls ``plt.show()`` or touches pyplot's state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens.errors import InputError, describe
from whylens.inspection._ale import accumulated_local_effects
from whylens.inspection._ale_result import ALEEffect, ALEResult
from whylens.inspection._figures import ResultDisplay, category_label, panels

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ALEDisplay"]


class ALEDisplay(ResultDisplay[ALEResult]):
    """Accumulated local effects plot: one panel per feature or pair.

    A 1-D continuous effect is a line over the bin edges with its bootstrap
    band (when the result has one) and a rug of the feature's deciles; a
    categorical effect is a point per category, in the similarity order, with
    error bars; a pair is a filled contour of the second-order effect.

    Parameters
    ----------
    result : ALEResult
        From :func:`~whylens.inspection.accumulated_local_effects`.

    Attributes
    ----------
    result : ALEResult
    figure_ : matplotlib.figure.Figure
    axes_ : ndarray of Axes, shape (n_rows, n_cols)
        The panels; panels beyond the effects are switched off.
    lines_ : ndarray of object, shape (n_effects,)
        Per effect, the list of Line2D drawn (one per target; empty for a pair).
    bands_ : ndarray of object, shape (n_effects,)
        Per effect, the list of band artists (PolyCollection, or the error bar
        containers of a categorical effect); empty without a bootstrap.
    contours_ : ndarray of object, shape (n_effects,)
        The QuadContourSet of a pair, else None.
    deciles_vlines_ : ndarray of object, shape (n_effects,)
        The rug of deciles (LineCollection) under a continuous curve, else None.
    """

    RESULT = ALEResult
    RESULT_FIX = "Compute one with accumulated_local_effects(...)."

    @classmethod
    def from_estimator(cls, estimator: Any, X: Any, features: Any, *, target: Any = None,
                       ax: Axes | Sequence[Axes] | None = None, n_cols: int = 3,
                       **kwargs: Any) -> ALEDisplay:
        """Compute the effects and plot them.

        Parameters
        ----------
        estimator : model
            Anything :func:`~whylens.inspection.accumulated_local_effects` takes.
        X : array-like or DataFrame of shape (n, d)
        features : int, str, tuple or list
            As in ``accumulated_local_effects``.
        target : optional
            As in ``accumulated_local_effects``.
        ax, n_cols
            As in :meth:`plot`.
        **kwargs
            Further arguments of ``accumulated_local_effects`` (``bins``,
            ``n_bootstrap``, ``categorical_features``, ``random_state``, ...).

        Returns
        -------
        ALEDisplay
        """
        result = accumulated_local_effects(estimator, X, features, target=target, **kwargs)
        return cls(result).plot(ax=ax, n_cols=n_cols)

    @classmethod
    def from_result(cls, result: ALEResult, *, ax: Axes | Sequence[Axes] | None = None,
                    target: int | str | None = None, n_cols: int = 3) -> ALEDisplay:
        """Plot a result computed before (or read back with ``ALEResult.from_json``).

        Returns
        -------
        ALEDisplay
        """
        return cls(result).plot(ax=ax, target=target, n_cols=n_cols)

    # ------------------------------------------------------------ drawing
    def _rows(self, target: int | str | None) -> list[int]:
        res = self.result
        if target is None:
            return list(range(len(res.targets)))
        for r, (t, name) in enumerate(zip(res.targets, res.target_names, strict=True)):
            if (isinstance(target, str) and target == name) or (
                    not isinstance(target, (str, bool)) and target == t):
                return [r]
        raise InputError(describe("target", f"one of the computed targets {res.targets} or "
                                  f"{res.target_names}", target))

    def plot(self, ax: Axes | Sequence[Axes] | None = None, *, target: int | str | None = None,
             n_cols: int = 3, line_kw: dict[str, Any] | None = None,
             band_kw: dict[str, Any] | None = None,
             contour_kw: dict[str, Any] | None = None) -> ALEDisplay:
        """Draw the effects.

        Parameters
        ----------
        ax : Axes, sequence of Axes, or None
            None: a new figure with ``n_cols`` panels a row. One Axes: drawn
            into it for one effect, else split into a grid of panels. A
            sequence: one Axes per effect.
        target : int or str, optional
            The computed target to draw (index or name); default every target
            of a 1-D effect (one line each) and the first one of a pair.
        n_cols : int, default=3
        line_kw, band_kw, contour_kw : dict, optional
            Passed to ``Axes.plot``, ``Axes.fill_between`` and ``Axes.contourf``.

        Returns
        -------
        ALEDisplay
            ``self``, with the artists set.

        Raises
        ------
        InputError, InputTypeError
            An unknown target, a bad ``ax`` or ``n_cols``.
        """
        rows = self._rows(target)
        effects = self.result.effects
        n = len(effects)
        self.figure_, self.axes_ = panels(ax, n, n_cols, (4.2, 3.4), exact=True)
        self.lines_ = np.empty(n, dtype=object)
        self.bands_ = np.empty(n, dtype=object)
        self.contours_ = np.empty(n, dtype=object)
        self.deciles_vlines_ = np.empty(n, dtype=object)
        for i, (effect, axis) in enumerate(zip(effects, self.axes_.ravel(), strict=False)):
            self.lines_[i], self.bands_[i], self.contours_[i], self.deciles_vlines_[i] = \
                self._draw(effect, axis, rows, line_kw or {}, band_kw or {}, contour_kw or {})
        return self

    def _label(self, r: int) -> str:
        return f"ALE of {self.result.target_names[r]}"

    def _draw(self, effect: ALEEffect, axis: Any, rows: list[int], line_kw: dict[str, Any],
              band_kw: dict[str, Any], contour_kw: dict[str, Any]
              ) -> tuple[list[Any], list[Any], Any, Any]:
        lines: list[Any] = []
        bands: list[Any] = []
        several = len(rows) > 1
        if effect.kind == "interaction":
            r = rows[0]
            e1, e2 = effect.grid
            contour = axis.contourf(e1, e2, effect.values[r].T, **{"levels": 12,
                                                                   "cmap": "RdBu_r",
                                                                   **contour_kw})
            axis.figure.colorbar(contour, ax=axis, label=self._label(r))
            axis.set_xlabel(effect.features[0])
            axis.set_ylabel(effect.features[1])
            return lines, bands, contour, None
        if effect.kind == "categorical":
            x = np.arange(effect.grid[0].size)
            for r in rows:
                (line,) = axis.plot(x, effect.values[r], marker="o",
                                    **{"label": self.result.target_names[r] if several
                                       else None, **line_kw})
                lines.append(line)
                if effect.lower is not None and effect.upper is not None:
                    err = np.vstack([effect.values[r] - effect.lower[r],
                                     effect.upper[r] - effect.values[r]])
                    bands.append(axis.errorbar(x, effect.values[r], yerr=np.maximum(err, 0),
                                               fmt="none", color=line.get_color(), capsize=3,
                                               **band_kw))
            axis.set_xticks(x, [category_label(v) for v in effect.grid[0]])
            rug = None
        else:
            z = effect.grid[0]
            for r in rows:
                (line,) = axis.plot(z, effect.values[r],
                                    **{"label": self.result.target_names[r] if several
                                       else None, **line_kw})
                lines.append(line)
                if effect.lower is not None and effect.upper is not None:
                    bands.append(axis.fill_between(z, effect.lower[r], effect.upper[r],
                                                   **{"alpha": 0.25, "color": line.get_color(),
                                                      "linewidth": 0, **band_kw}))
            rug = axis.vlines(effect.deciles[0], 0.0, 0.05, transform=axis.get_xaxis_transform(),
                              color="k", linewidth=1)
        axis.axhline(0.0, color="#999999", linewidth=0.8, zorder=0)
        axis.set_xlabel(effect.features[0])
        axis.set_ylabel("ALE" if several else self._label(rows[0]))
        if several:
            axis.legend(title="target", fontsize=8)
        return lines, bands, None, rug

    def __repr__(self) -> str:
        return f"ALEDisplay({self.result!r})"
