"""Smoke tests of the scripts in examples/: they run end to end on tiny data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

POSITIVE = ["정말 재미있는 영화였다", "배우들 연기가 너무 좋았다", "감동적이고 최고의 작품",
            "다시 보고 싶은 영화", "음악도 좋고 스토리도 좋다"]
NEGATIVE = ["너무 지루하고 별로였다", "시간 아까운 최악의 영화", "연기가 어색하고 재미없다",
            "스토리가 억지스럽다", "돈 아깝고 실망했다"]


def write_tiny_nsmc(path: Path) -> int:
    """40 reviews in NSMC's format (``id<TAB>document<TAB>label``, header first),
    half positive (1), half negative (0). Returns the number of reviews."""
    lines = ["id\tdocument\tlabel"]
    k = 0
    for shift in range(4):
        for pos, neg in zip(POSITIVE, NEGATIVE, strict=True):
            lines.append(f"{1000 + k}\t{pos} {POSITIVE[(k + shift) % 5]}\t1")
            lines.append(f"{1001 + k}\t{neg} {NEGATIVE[(k + shift) % 5]}\t0")
            k += 2
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return k


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the output:\n{text}"
    return float(match.group(1))


def test_korean_reviews_gradcam_runs_on_a_tiny_nsmc_file(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("kiwipiepy")
    pytest.importorskip("matplotlib")
    data = tmp_path / "tiny_nsmc.txt"
    assert write_tiny_nsmc(data) == 40
    out = tmp_path / "review.png"
    cmd = [sys.executable, str(REPO / "examples" / "korean_reviews_gradcam.py"), str(data),
           "--train-size", "32", "--test-size", "8", "--epochs", "1", "--vocab-size", "200",
           "--lime-samples", "50", "--out", str(out)]
    env = dict(os.environ, MPLBACKEND="Agg")
    run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stderr
    text = run.stdout
    assert "kiwi: 32 training reviews" in text
    assert "epoch 1: train loss" in text
    assert re.search(r"test \(8 reviews\): accuracy \d\.\d{3}, AUC (\d\.\d{3}|n/a)", text)
    # LIME's probabilities are the network's own p (it ends in sigmoid), not sigmoid(p)
    p = _number(r"\np\(positive\) = (\d\.\d{3})", text)
    assert _number(r"LIME's model call on the review: p\(positive\) = (\d\.\d{3})", text) == p
    # Integrated Gradients' completeness line: sum - delta = p(review) - p(padding)
    total = _number(r"IG completeness: sum = ([-+]\d\.\d{4})", text)
    gap = _number(r"p\(review\) - p\(padding\) = ([-+]\d\.\d{4})", text)
    delta = _number(r"delta = ([-+]\d\.\d{2}e[-+]\d+)", text)
    assert abs(total - delta - gap) <= 1e-4 + 1e-12
    # one table row per morpheme of the review, then the figure
    rows = [line for line in text.splitlines()
            if re.match(r"^\S+\s+\S+\s+\d\.\d{4}\s+[-+]\d\.\d{4}\s+[-+]\d\.\d{4}", line)]
    assert len(rows) >= 10  # the default review has 23 morphemes
    assert f"saved {out}" in text
    assert out.stat().st_size > 10_000
