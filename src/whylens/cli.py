"""The ``whylens`` command line.

``whylens serve`` opens the workbench (a browser app) on the embedded models
or the user's; ``whylens demo`` trains the embedded default models, explains a
few predictions and writes an HTML report; ``whylens --version`` prints the
version. User errors print one line to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from whylens import __version__
from whylens.errors import WhylensError

__all__ = ["build_parser", "main"]

PROG = "whylens"


class _Usage(Exception):
    """A bad command-line value found after parsing (exit status 2)."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``whylens`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Explain machine-learning predictions (LIME, SHAP, Grad-CAM, ...).",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="train the embedded default models, explain predictions, write an HTML report",
        description="Train the embedded default models on data shipped with installed "
                    "packages (no network): a random forest on scikit-learn's breast cancer "
                    "table, TF-IDF + naive Bayes and a Conv1d+BiGRU network on Rotten Tomatoes "
                    "reviews; load the pretrained EfficientNet-Lite0 for scikit-image's photos. "
                    "Explain test predictions with LIME, SHAP, Grad-CAM and friends, feature "
                    "maps, filter patterns and gradient attributions, and write index.html, "
                    "pages, PNGs and JSON explanations to --out. Sections whose optional "
                    "dependencies are missing are skipped with a message.",
    )
    demo.add_argument("--out", metavar="DIR", default="whylens-demo",
                      help="output directory (created; files overwritten) "
                           "[default: %(default)s]")
    demo.add_argument("--samples", metavar="N", type=int, default=None,
                      help="LIME samples per explanation [default: 5000, 1000 with --quick]")
    demo.add_argument("--seed", type=int, default=0,
                      help="seed of splits, models and explainers [default: %(default)s]")
    demo.add_argument("--quick", action="store_true",
                      help="explain one instance per section instead of three")
    demo.add_argument("--sections", metavar="NAMES", default=None,
                      help="comma-separated sections to run, e.g. tabular,text "
                           "[default: all whose dependencies are installed]")
    demo.add_argument("--no-progress", action="store_true",
                      help="no progress bars or stage messages on stderr")
    demo.set_defaults(func=_demo)

    serve = sub.add_parser(
        "serve",
        help="open the workbench: click a layer of a CNN, explain text and tables in a browser",
        description="Serve the workbench on 127.0.0.1: EfficientNet-Lite0 with scikit-image's "
                    "photos, the demo's review classifier and breast-cancer forest, or your own "
                    "model with --model package.module:factory. Needs the app extra "
                    '(pip install "whylens[app,demo]").',
    )
    serve.add_argument("--model", metavar="SPEC", action="append", default=None,
                       help="package.module:factory returning a torch module (or a dict with "
                            "module, labels, images, preprocess, size), or a .pt file with "
                            "--trust-model; repeat for several models [default: the embedded "
                            "models]")
    serve.add_argument("--trust-model", action="store_true",
                       help="allow loading a pickled .pt module (unpickling runs its code)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="bind address; anything but loopback exposes the models "
                            "[default: %(default)s]")
    serve.add_argument("--port", type=int, default=8000, help="[default: %(default)s]")
    serve.add_argument("--no-browser", action="store_true",
                       help="do not open the page in a browser")
    serve.set_defaults(func=_serve)

    explain = sub.add_parser(
        "explain",
        help="explain every row of a CSV or Parquet table into Parquet parts (resumable)",
        description="Explain every row of DATA with METHOD, chunk by chunk, into Parquet parts "
                    "and a manifest in --output; run the same command again after a crash or "
                    "kill to continue where it stopped. Needs the scale extra "
                    '(pip install "whylens[scale]").',
    )
    explain.add_argument("model", metavar="MODEL",
                         help="package.module:factory (called without arguments), a .skops "
                              "file, or a .joblib/.pkl file with --trust-model")
    explain.add_argument("data", metavar="DATA",
                         help="a .csv (header row) or .parquet table; for the torch.* methods "
                              "a .pt/.pth tensor file or an image folder (--param size=N)")
    explain.add_argument("--method", required=True, metavar="M",
                         help="shap.kernel, shap.permutation, shap.exact, shap.linear, "
                              "shap.tree, lime.tabular or lime.text (one text column: "
                              "--param text_column=NAME)")
    explain.add_argument("--output", required=True, metavar="DIR",
                         help="directory of the parts, manifest.json and summary.json")
    explain.add_argument("--param", metavar="KEY=VALUE", action="append", default=[],
                         help="a method parameter (JSON value or text), e.g. nsamples=200 or "
                              "background=500; repeatable")
    explain.add_argument("--chunk-rows", metavar="N", type=int, default=10_000,
                         help="rows per chunk and part file [default: %(default)s]")
    explain.add_argument("--engine", choices=("local", "ray"), default="local",
                         help="worker processes on this machine, or Ray tasks "
                              "[default: %(default)s]")
    explain.add_argument("--jobs", metavar="N", type=int, default=1,
                         help="worker processes (local) or CPUs of the local Ray instance "
                              "[default: %(default)s]")
    explain.add_argument("--address", metavar="A", default=None,
                         help="join this Ray cluster (--engine ray) instead of starting one "
                              "on 127.0.0.1")
    explain.add_argument("--seed", metavar="S", type=int, default=0,
                         help="the job's seed [default: %(default)s]")
    explain.add_argument("--trust-model", action="store_true",
                         help="allow loading a joblib/pickle model file (unpickling runs its "
                              "code)")
    explain.add_argument("--no-progress", action="store_true", help="no progress bar")
    explain.set_defaults(func=_explain)
    return parser


def _serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise _Usage(f"--port: expected an integer in [0, 65535], got {args.port}.")
    import matplotlib

    matplotlib.use("Agg")  # exports are drawn off screen

    from whylens.app import load_model_spec, serve

    models: dict | None = None  # None: the embedded models, loaded while the page opens
    if args.model:
        models = {}
        for spec in args.model:
            models.update(load_model_spec(spec, trust_model=args.trust_model))
    serve(models, host=args.host, port=args.port, open_browser=not args.no_browser)
    return 0


def _explain(args: argparse.Namespace) -> int:
    import json

    params = {}
    for item in args.param:
        key, eq, text = item.partition("=")
        if not eq or not key.strip():
            raise _Usage(f"--param: expected KEY=VALUE, got {item!r}. Example: "
                         "--param nsamples=200")
        try:
            params[key.strip()] = json.loads(text)
        except ValueError:
            params[key.strip()] = text
    if args.seed < 0:
        raise _Usage(f"--seed: expected an integer >= 0, got {args.seed}.")

    from whylens.batch import explain_dataset

    result = explain_dataset(
        args.model, args.data, args.method, params=params, output=args.output,
        chunk_rows=args.chunk_rows, engine=args.engine, jobs=args.jobs, address=args.address,
        random_state=args.seed, progress=False if args.no_progress else None,
        trust_model=args.trust_model)
    print(f"{PROG}: {result.n_rows} rows in {result.n_chunks} parts under {result.output} "
          f"({result.chunks_run} explained now, {result.chunks_reused} kept from an earlier "
          "run)")
    for label, means in result.summary["mean_abs"].items():
        top = sorted(means.items(), key=lambda item: -item[1])[:5]
        print(f"  mean |value| for {label}: "
              + ", ".join(f"{name} {value:.4g}" for name, value in top))
    return 0


def _demo(args: argparse.Namespace) -> int:
    if args.samples is not None and args.samples < 1:
        raise _Usage(f"--samples: expected an integer >= 1, got {args.samples}. "
                     "Try --samples 5000 (or --quick for a fast run).")
    if args.seed < 0:
        raise _Usage(f"--seed: expected an integer >= 0, got {args.seed}.")
    if not args.out.strip():  # Path("") would be the current directory
        raise _Usage(f"--out: expected a directory name, got {args.out!r}. Name an output "
                     "directory (--out . for the current one).")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _Usage(f"--out: expected a directory (or a path to create), got the existing "
                     f"file {out}. Choose another directory.")

    import matplotlib

    matplotlib.use("Agg")  # the demo only writes files; never open a window

    from whylens.demo import format_summary, run_demo

    def step(message: str) -> None:
        print(f"{PROG}: {message}", file=sys.stderr, flush=True)

    result = run_demo(
        out,
        num_samples=args.samples,
        seed=args.seed,
        quick=args.quick,
        sections=None if args.sections is None
        else [name.strip() for name in args.sections.split(",") if name.strip()],
        progress=False if args.no_progress else None,
        on_step=None if args.no_progress else step,
    )
    print(format_summary(result))
    return 0


def _error(message: str) -> None:
    one_line = " ".join(str(message).split())
    print(f"{PROG}: error: {one_line}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``whylens`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for a usage error or a whylens error
        (bad value, missing optional dependency), 1 when a file cannot be
        written, 130 when interrupted.

    Raises
    ------
    Exception
        Only unexpected errors (bugs) propagate, with their traceback.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help, --version, argparse usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except _Usage as exc:
        _error(f"{args.command}: {exc}")
        return 2
    except WhylensError as exc:
        _error(str(exc))
        return 2
    except OSError as exc:
        _error(f"cannot write the output: {exc}")
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
