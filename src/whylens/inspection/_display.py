"""Displays in scikit-learn's style for permutation importance and partial dependence.

``from_estimator`` validates and computes (through the public functions),
``from_result`` draws a result already computed (or read back from JSON),
``plot(ax=...)`` draws and keeps every artist as an attribute. Nothing here
calls ``plt.show()`` or touches pyplot's state: without ``ax`` a new
``matplotlib.figure.Figure`` is made (``display.figure_``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from whylens._validation import check_positive_int
from whylens.errors import InputError, describe
from whylens.inspection._figures import ResultDisplay, category_label, panels
from whylens.inspection._importance import ImportanceResult
from whylens.inspection._partial_dependence import PartialDependenceResult, partial_dependence
from whylens.inspection._permutation import permutation_importance

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PartialDependenceDisplay", "PermutationImportanceDisplay"]


# ============================================================================ importance
class PermutationImportanceDisplay(ResultDisplay[ImportanceResult]):
    """Feature importances as horizontal box plots over the repeats, or bars with the spread.

    Parameters
    ----------
    result : ImportanceResult
        From :func:`~whylens.inspection.permutation_importance` or
        :func:`~whylens.inspection.impurity_importance`.

    Attributes
    ----------
    result : ImportanceResult
    figure_ : matplotlib.figure.Figure
    ax_ : matplotlib.axes.Axes
    order_ : ndarray of int
        The features drawn, from the top (most important) down.
    boxes_ : dict or None
        What ``Axes.boxplot`` returned (``kind="boxplot"``).
    bars_ : BarContainer or None
        The bars (``kind="bar"``); ``errorbars_`` holds their spread.
    errorbars_ : ErrorbarContainer or None
    """

    RESULT = ImportanceResult

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        scoring: Any = None,
        n_repeats: int = 5,
        feature_groups: Any = None,
        max_samples: int | float | None = None,
        sample_weight: Any = None,
        random_state: Any = None,
        batch_size: int | None = None,
        progress: bool | None = None,
        callback: Callable[[int, int], Any] | None = None,
        scorer: str | int = 0,
        kind: str = "boxplot",
        max_display: int | None = 20,
        ax: Axes | None = None,
    ) -> PermutationImportanceDisplay:
        """Compute permutation importance (:func:`~whylens.inspection.permutation_importance`,
        same arguments) and plot it.

        Returns
        -------
        PermutationImportanceDisplay
        """
        result = permutation_importance(
            estimator, X, y, scoring=scoring, n_repeats=n_repeats,
            feature_groups=feature_groups, max_samples=max_samples,
            sample_weight=sample_weight, random_state=random_state, batch_size=batch_size,
            progress=progress, callback=callback)
        return cls(result).plot(scorer=scorer, kind=kind, max_display=max_display, ax=ax)

    @classmethod
    def from_result(cls, result: ImportanceResult, *, scorer: str | int = 0,
                    kind: str = "boxplot", max_display: int | None = 20,
                    ax: Axes | None = None) -> PermutationImportanceDisplay:
        """Plot a result already computed (or read back with ``from_json``).

        Returns
        -------
        PermutationImportanceDisplay
        """
        return cls(result).plot(scorer=scorer, kind=kind, max_display=max_display, ax=ax)

    def plot(self, *, scorer: str | int = 0, kind: str = "boxplot",
             max_display: int | None = 20, ax: Axes | None = None,
             color: str = "#1f77b4") -> PermutationImportanceDisplay:
        """Draw the importances of one scorer, most important on top.

        Parameters
        ----------
        scorer : str or int, default=0
            Which scorer of the result.
        kind : {"boxplot", "bar"}, default="boxplot"
            Box plots of the importance per repeat, or bars of the mean with
            the standard deviation as error bars.
        max_display : int or None, default=20
            The most important features shown; None shows all.
        ax : matplotlib Axes, optional
            Where to draw; a new Figure otherwise.
        color : str
            Colour of the boxes or bars.

        Returns
        -------
        self

        Raises
        ------
        InputError
            An unknown scorer or kind.
        """
        if kind not in ("boxplot", "bar"):
            raise InputError(describe("kind", "'boxplot' or 'bar'", kind))
        one = self.result[scorer]
        mean, raw = one.mean[0], one.raw[0]
        shown = mean.size if max_display is None else min(
            check_positive_int("max_display", max_display), mean.size)
        order = np.argsort(-mean, kind="stable")[:shown]
        fig, axes = panels(ax, 1, 1, (6.4, 0.35 * shown + 1.2))
        axis = axes[0, 0]
        positions = np.arange(shown)[::-1]
        labels = [one.names[i] for i in order]
        self.boxes_ = self.bars_ = self.errorbars_ = None
        if kind == "boxplot":
            self.boxes_ = axis.boxplot([raw[i] for i in order], positions=positions,
                                       orientation="horizontal", widths=0.6,
                                       patch_artist=True, tick_labels=labels)
            for box in self.boxes_["boxes"]:
                box.set_facecolor(color)
                box.set_alpha(0.6)
        else:
            self.bars_ = axis.barh(positions, mean[order], color=color, alpha=0.8)
            self.errorbars_ = axis.errorbar(mean[order], positions, xerr=one.std[0][order],
                                            fmt="none", ecolor="black", capsize=3)
            axis.set_yticks(positions, labels)
        axis.axvline(0.0, color="grey", linestyle="--", linewidth=0.8)
        if one.method == "permutation":
            axis.set_xlabel(f"Decrease in {one.scorers[0]} when permuted")
            axis.set_title("Permutation importance"
                           + (f" ({one.raw.shape[2]} repeats)" if kind == "boxplot" else ""))
        else:
            axis.set_xlabel("Mean decrease in impurity (training data)")
            axis.set_title("Impurity importance")
        self.figure_, self.ax_, self.order_ = fig, axis, order
        return self

    def __repr__(self) -> str:
        return (f"PermutationImportanceDisplay(method={self.result.method!r}, "
                f"features={len(self.result.names)}, scorers={self.result.scorers})")


# ============================================================================ PD / ICE
class PartialDependenceDisplay(ResultDisplay[PartialDependenceResult]):
    """Partial dependence (and ICE) plots, one panel per feature set and target.

    A 1-way numeric set is a line over its grid (with the ICE curves of the
    rows behind it when the result has them) and a rug of the feature's
    deciles; a categorical one is bars (ICE as thin lines between the
    categories); a 2-way set is a filled contour (a heat map when either
    column is categorical) with both rugs. A 1-way average of several
    targets (classes) shares one panel, one line per class; everything else
    gets a panel per target.

    Parameters
    ----------
    result : PartialDependenceResult
        From :func:`~whylens.inspection.partial_dependence`.

    Attributes
    ----------
    result : PartialDependenceResult
    figure_ : matplotlib.figure.Figure
    axes_ : ndarray of Axes, shape (n_rows, n_cols)
        The panels (those beyond ``panels_`` are switched off).
    panels_ : list of tuple (feature_set_index, list of target positions)
        What each panel (in ``axes_.ravel()`` order) shows.
    lines_ : dict of (set, target) -> Line2D
        The average curves.
    ice_lines_ : dict of (set, target) -> list of Line2D
        The ICE curves drawn.
    bars_ : dict of (set, target) -> BarContainer
        Averages of categorical features.
    contours_ : dict of (set, target) -> QuadContourSet or AxesImage
        2-way averages.
    deciles_vlines_, deciles_hlines_ : dict of panel index -> LineCollection
        The rugs of deciles along x and (2-way) y.
    """

    RESULT = PartialDependenceResult

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        features: Any,
        *,
        kind: str = "average",
        centered: bool = False,
        grid_resolution: int = 100,
        percentiles: tuple[float, float] = (0.05, 0.95),
        categorical_features: Any = None,
        subsample: int | float | None = None,
        target: Any = None,
        method: str = "auto",
        output: str = "auto",
        random_state: Any = None,
        batch_size: int | None = None,
        progress: bool | None = None,
        callback: Callable[[int, int], Any] | None = None,
        ax: Axes | Sequence[Axes] | None = None,
        n_cols: int = 3,
        max_ice_lines: int | None = 200,
        line_kw: dict[str, Any] | None = None,
        ice_lines_kw: dict[str, Any] | None = None,
        contour_kw: dict[str, Any] | None = None,
    ) -> PartialDependenceDisplay:
        """Compute partial dependence (:func:`~whylens.inspection.partial_dependence`,
        same arguments) and plot it (:meth:`plot`'s arguments).

        Returns
        -------
        PartialDependenceDisplay
        """
        result = partial_dependence(
            estimator, X, features, kind=kind, centered=centered,
            grid_resolution=grid_resolution, percentiles=percentiles,
            categorical_features=categorical_features, subsample=subsample, target=target,
            method=method, output=output, random_state=random_state, batch_size=batch_size,
            progress=progress, callback=callback)
        return cls(result).plot(ax=ax, n_cols=n_cols, max_ice_lines=max_ice_lines,
                                line_kw=line_kw, ice_lines_kw=ice_lines_kw,
                                contour_kw=contour_kw, random_state=random_state)

    def _layout(self) -> list[tuple[int, list[int]]]:
        r = self.result
        layout = []
        for s, cols in enumerate(r.features):
            if len(cols) == 1 and r.kind == "average":
                layout.append((s, list(range(len(r.targets)))))
            else:
                layout.extend((s, [t]) for t in range(len(r.targets)))
        return layout

    def plot(
        self,
        *,
        ax: Axes | Sequence[Axes] | None = None,
        n_cols: int = 3,
        max_ice_lines: int | None = 200,
        line_kw: dict[str, Any] | None = None,
        ice_lines_kw: dict[str, Any] | None = None,
        contour_kw: dict[str, Any] | None = None,
        random_state: Any = 0,
    ) -> PartialDependenceDisplay:
        """Draw every panel.

        Parameters
        ----------
        ax : Axes or sequence of Axes, optional
            One Axes is split into the panels; a sequence gives one per panel;
            None draws on a new Figure.
        n_cols : int, default=3
            Panels per row.
        max_ice_lines : int or None, default=200
            The most ICE curves drawn per panel (an evenly spread, seeded
            choice of the rows; the result keeps all of them). The panel's
            title says when fewer than all are drawn. None draws all.
        line_kw, ice_lines_kw, contour_kw : dict, optional
            Keyword arguments of the average line, the ICE lines and
            ``contourf``.
        random_state : int, default=0
            Seeds the choice of ICE curves drawn.

        Returns
        -------
        self
        """
        r = self.result
        layout = self._layout()
        fig, axes = panels(ax, len(layout), n_cols, (4.2, 3.4))
        self.figure_, self.axes_, self.panels_ = fig, axes, layout
        self.lines_: dict[tuple[int, int], Any] = {}
        self.ice_lines_: dict[tuple[int, int], list[Any]] = {}
        self.bars_: dict[tuple[int, int], Any] = {}
        self.contours_: dict[tuple[int, int], Any] = {}
        self.deciles_vlines_: dict[int, Any] = {}
        self.deciles_hlines_: dict[int, Any] = {}
        rng = np.random.default_rng(random_state)
        flat = axes.ravel()
        for p, (s, targets) in enumerate(layout):
            axis = flat[p]
            cols = r.features[s]
            if len(cols) == 1:
                self._draw_1d(axis, s, targets, max_ice_lines, dict(line_kw or {}),
                              dict(ice_lines_kw or {}), rng)
            else:
                self._draw_2d(axis, s, targets[0], dict(contour_kw or {}))
            self._rug(axis, p, cols)
            if p % axes.shape[1] == 0 and len(cols) == 1:
                axis.set_ylabel(("Centred " if r.centered else "") + "partial dependence")
        return self

    def _draw_1d(self, axis: Any, s: int, targets: list[int], max_ice: int | None,
                 line_kw: dict[str, Any], ice_kw: dict[str, Any],
                 rng: np.random.Generator) -> None:
        r = self.result
        grid = r.grid_values[s][0]
        categorical = r.categorical[s][0]
        x = np.arange(grid.size) if categorical else grid
        several = len(targets) > 1
        for t in targets:
            label = r.target_names[t]
            if r.individual is not None:
                curves = r.individual[s][t]
                rows = np.arange(curves.shape[0])
                if max_ice is not None and rows.size > max_ice:
                    rows = np.sort(rng.choice(rows.size, size=max_ice, replace=False))
                    axis.set_title(f"ICE of {rows.size} of {curves.shape[0]} rows",
                                   fontsize="small")
                kw = {"color": "tab:blue", "alpha": min(1.0, max(0.05, 8.0 / rows.size)),
                      "linewidth": 0.5, **ice_kw}
                self.ice_lines_[(s, t)] = axis.plot(x, curves[rows].T, **kw)
            if r.average is not None:
                average = r.average[s][t]
                if categorical:
                    self.bars_[(s, t)] = axis.bar(
                        x + (0.8 / len(targets)) * (targets.index(t) - (len(targets) - 1) / 2),
                        average, width=0.8 / len(targets), alpha=0.7,
                        label=label if several else None)
                else:
                    kw = {"linewidth": 2.0, **line_kw}
                    if not several and r.individual is not None:
                        kw.setdefault("color", "tab:orange")
                    (self.lines_[(s, t)],) = axis.plot(x, average,
                                                       label=label if several else "average",
                                                       **kw)
        if categorical:
            axis.set_xticks(x, [category_label(v) for v in grid])
        axis.set_xlabel(r.names_of(s)[0])
        if several:
            axis.legend(fontsize="small")
        elif len(r.targets) > 1 or r.output == "probability":
            title = axis.get_title()
            name = r.target_names[targets[0]]
            axis.set_title(f"{name}" + (f" · {title}" if title else ""), fontsize="small")

    def _draw_2d(self, axis: Any, s: int, t: int, contour_kw: dict[str, Any]) -> None:
        r = self.result
        gx, gy = r.grid_values[s]
        if r.average is not None:
            z = r.average[s][t]
        else:
            z = r.individual[s][t].mean(axis=0)
        if any(r.categorical[s]):
            self.contours_[(s, t)] = axis.imshow(z.T, origin="lower", aspect="auto",
                                                 cmap=contour_kw.pop("cmap", "viridis"))
            axis.set_xticks(np.arange(gx.size), [category_label(v) for v in gx])
            axis.set_yticks(np.arange(gy.size), [category_label(v) for v in gy])
        else:
            xx, yy = np.meshgrid(gx, gy, indexing="ij")
            kw = {"levels": 8, "cmap": "viridis", **contour_kw}
            self.contours_[(s, t)] = axis.contourf(xx, yy, z, **kw)
            axis.contour(xx, yy, z, levels=kw["levels"], colors="black", linewidths=0.5)
        self.figure_.colorbar(self.contours_[(s, t)], ax=axis)
        names = r.names_of(s)
        axis.set_xlabel(names[0])
        axis.set_ylabel(names[1])
        if len(r.targets) > 1 or r.output == "probability":
            axis.set_title(r.target_names[t], fontsize="small")

    def _rug(self, axis: Any, p: int, cols: tuple[int, ...]) -> None:
        r = self.result
        s = self.panels_[p][0]
        if any(r.categorical[s]):  # bars and heat maps have category positions, not values
            return
        self.deciles_vlines_[p] = axis.vlines(r.deciles[cols[0]], 0.0, 0.05, colors="black",
                                              transform=axis.get_xaxis_transform())
        if len(cols) == 2 and not r.categorical[s][1]:
            self.deciles_hlines_[p] = axis.hlines(r.deciles[cols[1]], 0.0, 0.05,
                                                  colors="black",
                                                  transform=axis.get_yaxis_transform())

    def __repr__(self) -> str:
        r = self.result
        return (f"PartialDependenceDisplay(features={r.features}, kind={r.kind!r}, "
                f"targets={r.target_names})")

