"""Small models and tables for the whole-dataset tests (importable as factories).

``tests.batch._models:logistic`` is what ``whylens explain`` loads in the
subprocess tests; every factory is deterministic, so a model built twice
pickles to the same bytes (the job's model digest).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np

FEATURES = [f"f{j}" for j in range(8)]
#: f(x) = sigmoid(x @ W) is what the logistic models learn (roughly).
WEIGHTS = np.array([2.0, -1.0, 0.5, 0.0, 1.5, -0.5, 0.25, 1.0])


def table(n: int = 5000, seed: int = 0):
    """A (n, 8) DataFrame of standard normal columns f0..f7."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)


def _training(seed: int = 1):
    X = table(1000, seed).to_numpy()
    rng = np.random.default_rng(seed)
    y = (X @ WEIGHTS + 0.5 * rng.normal(size=X.shape[0]) > 0).astype(int)
    return X, y


def logistic():
    """A LogisticRegression fitted on an array (no feature names, 8 features)."""
    from sklearn.linear_model import LogisticRegression

    X, y = _training()
    return LogisticRegression().fit(X, y)


def named_logistic():
    """A LogisticRegression fitted on a DataFrame (feature_names_in_ = f0..f7)."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    X, y = _training()
    return LogisticRegression().fit(pd.DataFrame(X, columns=FEATURES), y)


def forest():
    """A small random forest classifier (for Tree SHAP)."""
    from sklearn.ensemble import RandomForestClassifier

    X, y = _training()
    return RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(X, y)


class Slow:
    """``predict_proba`` of a logistic model that sleeps ``WHYLENS_TEST_DELAY`` s per call.

    A callable (whylens calls it with the rows); the delay is read at call time so
    a slow run and a fast run are the same job (same pickled model).
    """

    def __init__(self) -> None:
        self.inner = logistic()

    def __call__(self, X):
        time.sleep(float(os.environ.get("WHYLENS_TEST_DELAY", "0")))
        return self.inner.predict_proba(np.asarray(X))


def slow_logistic():
    return Slow()


class DieOnce:
    """``predict_proba`` of a logistic model; the first call in a process other than
    the one that built it (a Ray worker) kills that process with SIGKILL, once
    (a marker file remembers)."""

    def __init__(self, marker: str) -> None:
        self.inner = logistic()
        self.marker = marker
        self.home = os.getpid()

    def __call__(self, X):
        marker = Path(self.marker)
        if os.getpid() != self.home and not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.predict_proba(np.asarray(X))


POSITIVE = ["good", "great", "fine", "superb"]
NEGATIVE = ["bad", "awful", "poor", "dull"]
NEUTRAL = ["movie", "plot", "the", "actors", "end"]


def reviews(n: int = 400, seed: int = 0):
    """A DataFrame with one column "review": short documents of sentiment and neutral words."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    docs = []
    for _ in range(n):
        words = list(rng.choice(POSITIVE if rng.random() < 0.5 else NEGATIVE, size=2))
        words += list(rng.choice(NEUTRAL, size=3))
        docs.append(" ".join(rng.permutation(words)))
    return pd.DataFrame({"review": docs})


def sentiment():
    """TF-IDF + logistic regression on :func:`reviews` (class 1: positive words)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    docs = reviews(300, seed=1)["review"].tolist()
    y = [int(any(w in POSITIVE for w in d.split())) for d in docs]
    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(docs, y)
