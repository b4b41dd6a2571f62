"""MLflow pyfunc of the disease model, defined from code (MLflow "models from code").

``mlflow.pyfunc.load_model("models:/shimanto-disease/<version>")`` gives a
model whose ``predict`` takes a DataFrame with columns ``scene`` (GeoTIFF
path), ``out`` (output folder) and optional ``fields`` (GeoJSON path) and runs
``shimanto predict`` for each row from the logged model directory alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
from mlflow.pyfunc import PythonModel, PythonModelContext


class DiseaseModel(PythonModel):
    """Runs :func:`pipeline.detection.predict.predict_scene` with the logged model directory."""

    def load_context(self, context: PythonModelContext) -> None:
        from pipeline.detection.card import read_card

        self.model_dir = Path(context.artifacts["model_dir"])
        self.card = read_card(self.model_dir)

    def predict(self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None) -> Any:
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
