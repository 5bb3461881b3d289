"""ONNX export of a localizer's inference graph, and its check against
PyTorch with onnxruntime (both optional dependencies:
``pip install onnx onnxscript onnxruntime``).

The graph: ``inputs`` (B, 3, H, W), the image after the data preprocessor
(RGB, mean/std normalised) → ``scores`` (B, K) class probabilities,
``cam`` (B, h, w) the low-resolution CAM of the predicted class, and, for
F-CAM models, ``fcam`` (B, H, W) the foreground probability of the decoder —
what ``model.predict`` computes, with a dynamic batch axis.

Exportable CAM methods are those that are a fixed function of one forward:
``CAM`` (a gather of the head's class weights and a weighted sum). The
others are refused with the reason: gradient methods need autograd
(``∂y^c/∂A``), which an ONNX graph does not have; Eigen-CAM needs an
eigendecomposition, which has no ONNX operator; Score-CAM's ``B·C`` masked
forwards would be unrolled into the graph for one fixed batch size.
"""
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from fcam_mm.models.cams import CAM, BaseGradientCAM, EigenCAM, ScoreCAM

EXPORTABLE_CAMS = (CAM, )
NOT_EXPORTABLE = (
    (BaseGradientCAM, 'it needs gradients of the class score (autograd), '
     'which an ONNX graph cannot compute'),
    (EigenCAM, 'it needs an eigendecomposition (torch.linalg.eigh), which '
     'has no ONNX operator'),
    (ScoreCAM, 'its B*C masked forward passes would be unrolled into the '
     'graph for one fixed batch size'),
)


class UnsupportedExportError(ValueError):
    """The model (its CAM method) cannot be expressed as an ONNX graph."""


def check_exportable(model: nn.Module) -> None:
    """Raise :class:`UnsupportedExportError` naming the CAM method and the
    reason unless it is in :data:`EXPORTABLE_CAMS`."""
    cam = getattr(model, 'cam', None)
    if cam is None:
        raise UnsupportedExportError(
            f'{type(model).__name__} has no CAM method (model.cam); only '
            'WSOLLocalizer / FCAMLocalizer models are exported')
    if isinstance(cam, EXPORTABLE_CAMS):
        return
    name = type(cam).__name__
    exportable = ', '.join(c.__name__ for c in EXPORTABLE_CAMS)
    for cls, reason in NOT_EXPORTABLE:
        if isinstance(cam, cls):
            break
    else:
        reason = 'it is not one of the methods checked for export'
    raise UnsupportedExportError(
        f'cannot export {name} to ONNX: {reason}. Exportable CAM methods: '
        f'{exportable}; for F-CAM models trained with another method, '
        "export with cfg model.cam=dict(type='CAM') (the decoder's map does "
        'not depend on the CAM method at inference)')


class LocalizerInferenceGraph(nn.Module):
    """``inputs`` → ``(scores, cam[, fcam])`` as described in the module
    docstring; wraps ``model`` without copying it."""

    def __init__(self, model: nn.Module):
        super().__init__()
        check_exportable(model)
        self.model = model
        self.has_decoder = hasattr(model, 'decoder')

    @property
    def output_names(self) -> Tuple[str, ...]:
        return ('scores', 'cam', 'fcam') if self.has_decoder else ('scores',
                                                                   'cam')

    def forward(self, inputs: torch.Tensor):
        feats = self.model.extract_feat(inputs)
        cams, logits = self.model.cam(self.model, inputs, None, feats=feats)
        outputs = (logits.softmax(dim=1), cams)
        if self.has_decoder:
            fcam = self.model.decoder(feats, inputs.shape[-2:])
            outputs += (fcam.softmax(dim=1)[:, 1], )
        return outputs


def network_input_size(cfg) -> Tuple[int, int]:
    """(H, W) the test pipeline resizes every image to: the ``scale`` of its
    ``Resize`` with ``keep_ratio=False``; otherwise the size must be given
    explicitly."""
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'Resize' and not step.get('keep_ratio', False):
            scale = step['scale']
            if isinstance(scale, int):
                return scale, scale
            width, height = scale
            return int(height), int(width)
    raise ValueError('the test pipeline has no fixed-size Resize '
                     '(keep_ratio=False); give the input shape explicitly')


def export_onnx(model: nn.Module,
                out_file: str,
                input_size: Optional[Sequence[int]] = None,
                batch_size: int = 1,
                opset_version: int = 18,
                dynamic_batch: bool = True) -> str:
    """Export ``model``'s inference graph (eval mode, on its device) to
    ``out_file`` with torch's ONNX exporter; ``input_size`` (H, W) defaults
    to :func:`network_input_size`. Returns ``out_file``."""
    graph = LocalizerInferenceGraph(model).eval()
    height, width = input_size or network_input_size(model.cfg)
    device = next(model.parameters()).device
    example = torch.randn(batch_size, 3, height, width, device=device)
    dynamic_shapes = None
    if dynamic_batch:
        dynamic_shapes = {'inputs': {0: torch.export.Dim('batch')}}
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with torch.no_grad():
        program = torch.onnx.export(
            graph, (example, ),
            input_names=['inputs'],
            output_names=list(graph.output_names),
            opset_version=opset_version,
            dynamic_shapes=dynamic_shapes,
            dynamo=True,
            verbose=False)
    # One self-contained file (the small models need no external data).
    program.save(out_file, external_data=False)
    return out_file


def pytorch_outputs(model: nn.Module, inputs: torch.Tensor
                    ) -> Dict[str, np.ndarray]:
    """The same maps from the model's own ``predict`` (not the export
    wrapper), for the check."""
    with torch.no_grad():
        samples = model.predict(inputs)
    outputs = dict(
        scores=torch.stack([s.pred_score for s in samples]),
        cam=torch.stack([s.cam for s in samples]))
    if all('fcam' in s for s in samples):
        outputs['fcam'] = torch.stack([s.fcam for s in samples])
    return {k: v.cpu().numpy() for k, v in outputs.items()}


def compare_with_onnxruntime(model: nn.Module, onnx_file: str,
                             inputs: torch.Tensor) -> Dict[str, float]:
    """Run ``onnx_file`` with onnxruntime (CPU) and ``model.predict`` on
    ``inputs``; return the max absolute difference of each output."""
    try:
        import onnxruntime
    except ImportError as e:
        raise ImportError('checking the export needs onnxruntime: pip '
                          'install onnxruntime') from e
    session = onnxruntime.InferenceSession(
        onnx_file, providers=['CPUExecutionProvider'])
    names = [o.name for o in session.get_outputs()]
    feed = {session.get_inputs()[0].name: inputs.cpu().numpy()}
    exported = dict(zip(names, session.run(None, feed)))
    reference = pytorch_outputs(model, inputs)
    if set(exported) != set(reference):
        raise ValueError(f'{onnx_file} has outputs {sorted(exported)}, the '
                         f'model gives {sorted(reference)}')
    diffs = {}
    for name, ref in reference.items():
        if exported[name].shape != ref.shape:
            raise ValueError(f'{onnx_file}: output {name} has shape '
                             f'{exported[name].shape}, PyTorch gives '
                             f'{ref.shape}')
        diffs[name] = float(np.abs(exported[name] - ref).max())
    return diffs
