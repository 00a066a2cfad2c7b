"""captum's call shape of every gradient attribution, as a base class of
:class:`~whylens.torch.GradientAttribution`: ``method.attribute(inputs, ...)``.

It runs the method's own pass (``self._compute``) row chunk by row chunk with
captum's ``additional_forward_args`` handed to the model, with captum's
options set for the one call, and only changes how the answer is shaped:
tensors in the input's dtype and on its device, a 1-tuple for tuple inputs,
``(attributions, delta)`` with ``return_convergence_delta=True``. The
pieces shared with the CAMs' peer calls are in :mod:`whylens.torch._peer`.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from torch import Tensor
from whylens.errors import NotSupportedError, describe
from whylens.torch._attribution_args import batch_size_argument
from whylens.torch._inputs import as_input
from whylens.torch._peer import (
    captum_arguments,
    captum_inputs,
    check_captum_flag,
    rows_of,
    run_with_args,
    unwrap_baselines,
)

if TYPE_CHECKING:
    from whylens.torch._attribution import GradientAttribution

__all__ = ["CaptumCalls"]


class CaptumCalls:
    """captum's ``attribute`` for a gradient attribution (see the module docstring).

    The class it is mixed into provides ``model``, ``is_layer_method``,
    ``_chunk_cache``, ``_compute(x, target, baselines, labels, progress,
    callback) -> (run, result)`` and ``_delta(run, result)``.
    """

    #: captum's order of ``attribute``'s arguments after ``inputs`` for this method.
    _captum_positional: tuple[str, ...] = ("target", "additional_forward_args")
    #: Options of the method that a captum call may set for that call
    #: (``n_steps``, ``method``, ``abs``, ``n_samples``, ``stdevs``...).
    _captum_options: tuple[str, ...] = ()
    #: Whether ``return_convergence_delta`` is accepted (methods with a reference).
    _captum_delta = False

    def _reconfigure(self) -> None:
        """Rebuild what depends on the options after :meth:`_replaced` set them."""

    def _replaced(self, options: dict[str, Any]) -> GradientAttribution:
        """A shallow copy of this method with some options set (one captum call's)."""
        if not options:
            return self
        clone = copy.copy(self)
        clone._chunk_cache = self._chunk_cache  # the memory probe's answer still holds
        for name, value in options.items():
            setattr(clone, name, value)
        clone._reconfigure()
        return clone

    def attribute(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """captum's call: attributions as tensors, shaped and typed as captum returns them.

        Accepts captum's arguments of the same method, by keyword or in
        captum's positional order: ``target``, ``baselines`` (methods with a
        reference), ``additional_forward_args``, ``internal_batch_size``,
        ``return_convergence_delta`` and the method's options (``n_steps``
        and ``method`` for Integrated Gradients, ``abs`` for Saliency,
        ``n_samples`` and ``stdevs`` for GradientShap), which hold for this
        call only. ``inputs`` (and ``baselines``) may be a tensor or a tuple of
        one tensor, as captum's. The values equal captum's, except
        ``method="riemann_trapezoid"``, whose weights sum to 1 here and to
        ``1 - 1 / n_steps`` in captum (see :func:`whylens.torch.path_weights`).

        Parameters
        ----------
        inputs : Tensor of shape (n, ...) or a 1-tuple of it
        *args, **kwargs
            captum's arguments (above).

        Returns
        -------
        Tensor of shape (n, *inputs.shape[1:]) (layer methods: the layer's
        output shape), in the input's dtype and on its device; a 1-tuple of it
        when ``inputs`` was a tuple; with ``return_convergence_delta=True``,
        ``(attributions, delta)``, ``delta`` of shape (n,): the completeness
        gap ``sum(attributions) - (f(x) - f(baseline))`` per instance (for
        GradientShap the gap of the expected value; captum reports one per
        sample).

        Raises
        ------
        InputError
            An argument this method does not take, or any error of the call.
        NotSupportedError
            Several input tensors, ``attribute_to_layer_input=True``,
            ``return_convergence_delta`` on a method without a reference.

        Examples
        --------
        >>> ig = IntegratedGradients(model)                                # doctest: +SKIP
        >>> attr, delta = ig.attribute(x, baselines=x * 0, target=0,
        ...                            return_convergence_delta=True)       # doctest: +SKIP
        """
        opts = captum_arguments(type(self).__name__, args, kwargs, self._captum_positional,
                                sorted(self._captum_accepted()))
        x, as_tuple = captum_inputs(inputs)
        target = opts.pop("target", None)
        baselines = unwrap_baselines(opts.pop("baselines", None))
        extra = opts.pop("additional_forward_args", None)
        want_delta = bool(opts.pop("return_convergence_delta", False))
        if want_delta and not self._captum_delta:
            raise NotSupportedError(describe(
                "return_convergence_delta", f"False for {type(self).__name__} (only methods "
                "with a reference, IntegratedGradients, DeepLift, GradientShap and their "
                "layer variants, report a completeness gap)", True))
        check_captum_flag("attribute_to_layer_input", opts.pop("attribute_to_layer_input", False),
                          False)
        check_captum_flag("custom_attribution_func", opts.pop("custom_attribution_func", None),
                          None)
        size = opts.pop("internal_batch_size", None)
        method = self._replaced(self._call_options(opts))
        if size is not None:
            method = method._replaced({"batch_size": batch_size_argument(None, size)})
        dtype = x.dtype if isinstance(x, Tensor) else None
        x = as_input(x)
        if isinstance(target, Tensor) and target.ndim == 0:
            target = int(target)

        n = int(x.shape[0])

        def call(rows: slice) -> tuple[Tensor, Tensor | None]:
            run, result = method._compute(x[rows], rows_of(target, rows, n),
                                          rows_of(baselines, rows, n), None, False, None)
            values = result["values"][:, 0]
            gap = method._delta(run, result) if want_delta else None
            return values, None if gap is None else gap[:, 0]

        values, delta = run_with_args(self.model, n, extra, call)
        out_dtype = dtype if dtype is not None and dtype.is_floating_point else values.dtype
        values = values.detach().to(device=x.device, dtype=out_dtype)
        attr: Any = (values,) if as_tuple else values
        if want_delta and delta is not None:
            return attr, delta.to(device=x.device, dtype=out_dtype)
        return attr

    def _captum_accepted(self) -> set[str]:
        """Every keyword this method's ``attribute`` takes."""
        accepted = {"target", "additional_forward_args", "internal_batch_size",
                    *self._captum_options, *self._captum_positional}
        if self._captum_delta:
            accepted |= {"baselines", "return_convergence_delta"}
        if self.is_layer_method:
            accepted.add("attribute_to_layer_input")
        return accepted

    def _call_options(self, opts: dict[str, Any]) -> dict[str, Any]:
        """One captum call's options as attribute values (checked as the constructor does)."""
        return dict(opts)
