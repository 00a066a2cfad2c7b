"""Whole-dataset jobs: explain every row of a table, chunked, resumable, locally or on Ray.

>>> from whylens.batch import explain_dataset, open
>>> result = explain_dataset(model, "table.parquet", "shap.kernel",          # doctest: +SKIP
...                          params={"nsamples": 200}, output="out", jobs=4)
>>> result.summary["mean_abs"]                                               # doctest: +SKIP
>>> open("out").to_table(columns=["row", "value:1:age"]).to_pandas()         # doctest: +SKIP

The same from the command line: ``whylens explain pkg.models:make table.parquet
--method shap.kernel --param nsamples=200 --output out --jobs 4``; a torch model over
a tensor file or an image folder: ``whylens explain pkg.models:cnn images/ --method
torch.gradcam --param size=224 --output maps``. Needs the
``scale`` extra (pyarrow; Ray for ``engine="ray"``; skops for ``.skops`` models).
"""

from whylens.batch._job import BatchResult, explain_dataset
from whylens.batch._job import open_output as open
from whylens.batch._methods import METHODS, chunk_seed

__all__ = ["METHODS", "BatchResult", "chunk_seed", "explain_dataset", "open"]
