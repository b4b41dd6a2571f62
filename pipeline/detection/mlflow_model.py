"""MLflow pyfunc of the disease model, defined from code (MLflow "models from code").

``mlflow.pyfunc.load_model("models:/shimanto-disease/<version>")`` gives a
model whose ``predict`` takes a DataFrame with columns ``scene`` (GeoTIFF
path), ``out`` (output folder) and optional ``fields`` (GeoJSON path) and runs
``shimanto predict`` for each row from the logged model directory alone.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
from mlflow.pyfunc import PythonModel, PythonModelContext


class DiseaseModel(PythonModel):
    """Runs :func:`pipeline.detection.predict.predict_scene` with the logged model directory."""

    def load_context(self, context: PythonModelContext) -> None:
        from pipeline.detection.card import read_card

        self.model_dir = Path(context.artifacts["model_dir"])
        self.card = read_card(self.model_dir)

    # No type hints on purpose: MLflow would read them as an input schema (a DataFrame is passed).
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        import pandas as pd

        from pipeline.detection.predict import predict_scene

        rows = []
        for rec in model_input.to_dict("records"):
            fields = rec.get("fields")
            paths = predict_scene(Path(rec["scene"]), self.model_dir, Path(rec["out"]),
                                  Path(fields) if isinstance(fields, str) and fields else None)
            rows.append({k: str(v) for k, v in paths.items()})
        return pd.DataFrame(rows)


mlflow.models.set_model(DiseaseModel())
