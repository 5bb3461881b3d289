"""The model a WSOL config builds: classifier + CAM method (+ decoder)."""
from typing import List, Optional

import torch
from mmengine.model import BaseModel

from fcam_mm.registry import MODELS
from fcam_mm.structures import WSOLDataSample


def label_range_message(data_samples, labels: torch.Tensor, bad: torch.Tensor,
                        num_classes: int, limit: int = 5) -> str:
    """``ValueError`` text for labels outside ``[0, num_classes)``: each
    offending image (``img_path``) with its label and, when the dataset
    recorded it, its ``class_labels.txt`` line (``gt_label_where``)."""
    # gt_label may hold one label per sample or several; map back by counts
    owners = [i for i, s in enumerate(data_samples)
              for _ in range(s.gt_label.numel())]
    offending = bad.nonzero().flatten().tolist()
    items = []
    for k in offending[:limit]:
        sample = data_samples[owners[k]]
        name = sample.metainfo.get('img_path', f'sample {owners[k]} of the '
                                   'batch')
        where = sample.metainfo.get('gt_label_where')
        items.append(f'{name}: label {int(labels[k])}' +
                     (f' ({where})' if where else ''))
    more = (f' and {len(offending) - limit} more'
            if len(offending) > limit else '')
    return (f'{len(offending)} label(s) outside [0, {num_classes}) '
            f'(model.head.num_classes={num_classes}): ' + '; '.join(items) +
            more + '. The data has more classes than the model: set '
            'model.head.num_classes to the number of classes of the '
            "dataset (its metainfo['classes'])")


@MODELS.register_module()
class WSOLLocalizer(BaseModel):
    """A classifier trained with image labels whose CAM localizes the object.

    Modes (mmengine's contract):

    - ``loss``: cross-entropy of the image label, ``dict(loss_cls=...)``.
    - ``predict``: one forward per batch gives the class scores and the CAM
      of the GT class when the samples carry a label (the GT-known protocol of
      Choe et al. 2020) or of the predicted class otherwise; each data sample
      gets ``pred_score``, ``pred_label`` and ``cam`` (low resolution, on the
      model's device).
    - ``tensor``: the logits.

    Args:
        backbone (dict): encoder returning a tuple of feature maps, top last.
        head (dict): classification head with ``class_weights`` (CAM).
        cam (dict): the CAM method (``fcam_mm.models.cams``).
        gt_known (bool): build maps of the GT class when labels exist.
        data_preprocessor (dict): normalisation and batching.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 cam: dict = dict(type='CAM'),
                 gt_known: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='ImgDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.cam = MODELS.build(cam)
        self.gt_known = gt_known

    def extract_feat(self, inputs: torch.Tensor):
        return self.backbone(inputs)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[WSOLDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.head(self.extract_feat(inputs))
        raise RuntimeError(f'Invalid mode "{mode}"; choose "loss", '
                           '"predict" or "tensor"')

    def _stack_labels(self, data_samples, device) -> torch.Tensor:
        """The samples' labels, (B,) on ``device``; a label outside
        ``[0, head.num_classes)`` is a ``ValueError`` naming the images.

        The dataset checks labels against its own classes when it is built;
        a model with fewer classes than the data would otherwise fail in
        the loss or the CAM's indexing, with an index error on the CPU and
        a device-side assert on CUDA that names no image. One reduction and
        a host read per batch, before the forward pass is queued.
        """
        labels = torch.cat([s.gt_label for s in data_samples]).to(device)
        num_classes = getattr(getattr(self, 'head', None), 'num_classes',
                              None)
        if num_classes is not None and labels.numel():
            bad = (labels < 0) | (labels >= num_classes)
            if bool(bad.any()):
                raise ValueError(
                    label_range_message(data_samples, labels, bad,
                                        num_classes))
        return labels

    def loss(self, inputs, data_samples) -> dict:
        labels = self._stack_labels(data_samples, inputs.device)
        feats = self.extract_feat(inputs)
        return self.head.loss(feats, labels)

    def predict(self, inputs, data_samples=None) -> List[WSOLDataSample]:
        return self.predict_from_feats(inputs, None, data_samples)

    def predict_from_feats(self, inputs, feats=None, data_samples=None
                           ) -> List[WSOLDataSample]:
        """Fill ``pred_score`` and ``cam``; ``feats``: the backbone's outputs
        for ``inputs`` if already computed."""
        if data_samples is None:
            data_samples = [WSOLDataSample() for _ in range(len(inputs))]
        targets = None
        if self.gt_known and all('gt_label' in s for s in data_samples):
            targets = self._stack_labels(data_samples, inputs.device)
        maps, logits = self.cam(self, inputs, targets, feats=feats)
        scores = logits.softmax(dim=1)
        for sample, score, cam in zip(data_samples, scores, maps):
            sample.set_pred_score(score.detach())
            sample.cam = cam.detach()
        return data_samples
