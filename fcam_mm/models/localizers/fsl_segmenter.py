"""The few-shot fully supervised (FSL) baseline of the WSOL protocol."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseModel

from fcam_mm.registry import MODELS
from fcam_mm.structures import WSOLDataSample


@MODELS.register_module()
class FSLSegmenter(BaseModel):
    """A foreground/background segmenter trained on a few full annotations.

    Choe et al. (CVPR 2020, §5, "few-shot learning baseline") train a
    segmentation model on the full annotations of the split they hold out
    for hyper-parameter search (``train-fullsup``; the wsolevaluation
    ``val`` split) and evaluate it on the test split with the WSOL metrics:
    if a handful of fully labelled images beat a WSOL method, the method's
    weak supervision bought nothing. F-CAM reports it as the "FSL" row of
    Table 1. Here the segmenter is the WSOL backbone with F-CAM's U-Net
    decoder on top, so the only difference from F-CAM's stage 2 is the
    supervision: every pixel of the GT instead of CAM seeds + CRF + size.

    Training (``loss`` mode) minimises the per-pixel cross-entropy

        ``L = (1 / |Ω|) Σ_{p ∈ Ω} −log S_p^{y_p}``,
        ``S = softmax(decoder(backbone(x)))``

    where ``y`` is the sample's ``gt_seg_map`` (1 object, 0 background; the
    GT mask, or the filled GT boxes on box-only datasets; see
    ``LoadWSOLAnnotations(seg_target=...)``) and ``Ω`` the pixels of the
    batch whose label is not ``ignore_index``: the masks' ignore regions
    and the padding the data preprocessor adds to batch images of unequal
    size. The mean over ``Ω`` is :class:`PartialCrossEntropyLoss` with every
    non-ignored pixel labelled (``loss``, its default).

    Inference (``predict`` mode) sets ``fcam = S[:, 1]`` at the input's
    resolution, the same quantity as F-CAM's map, under the key the
    metrics read with ``map_key='fcam'``; the protocol then resizes it to
    224×224 (bicubic) and min-max normalises it. There is no classifier,
    so no ``pred_score``: evaluate with ``BoxLocalizationMetric(topk=())``
    (MaxBoxAcc = GT-known localization, MaxBoxAccV2) and
    ``PixelLocalizationMetric`` (PxAP), never with top-k localization or
    ``ClassificationMetric``.

    Args:
        backbone (dict): encoder returning a tuple of feature maps, top
            last (the WSOL backbones).
        decoder (dict): ``FCAMUNetDecoder`` over those maps, 2 outputs.
        loss (dict): per-pixel loss on ``(logits, labels)`` with an
            ``ignore_index``.
        freeze_backbone (bool): keep the backbone's parameters and its
            BatchNorm statistics fixed (``requires_grad=False`` and eval
            mode whatever ``train()`` says) and train the decoder alone —
            e.g. on a stage-1 WSOL classifier's features, the ceiling of
            F-CAM's stage 2 on them. The backbone then needs a checkpoint
            (``backbone.init_cfg``).
        data_preprocessor (dict): normalisation and batching.
        init_cfg (dict, optional): mmengine initialisation of the model.
    """

    def __init__(self,
                 backbone: dict,
                 decoder: dict,
                 loss: dict = dict(
                     type='PartialCrossEntropyLoss', ignore_index=255),
                 freeze_backbone: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='ImgDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.decoder = MODELS.build(decoder)
        self.loss_seg = MODELS.build(loss)
        if getattr(self.decoder, 'out_channels', 2) != 2:
            raise ValueError('the FSL decoder outputs background and '
                             'foreground logits: out_channels must be 2, '
                             f'got {self.decoder.out_channels}')
        self.ignore_index = getattr(self.loss_seg, 'ignore_index', None)
        if self.ignore_index is None:
            raise ValueError(f'the FSL loss {type(self.loss_seg).__name__} '
                             'has no ignore_index, which the masks\' ignore '
                             'regions and the batch padding need')
        self.freeze_backbone = bool(freeze_backbone)
        if self.freeze_backbone:
            for param in self.backbone.parameters():
                param.requires_grad_(False)
            self.backbone.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_backbone:
            # BatchNorm would otherwise update its running statistics in
            # every training forward, even without gradients.
            self.backbone.eval()
        return self

    def init_weights(self):
        """mmengine's initialisation, where a backbone ``init_cfg`` of type
        ``Pretrained`` with ``checkpoint=None`` means "no checkpoint yet":
        the backbone starts from its random initialisation (an error with
        ``freeze_backbone``). Configs keep that dict rather than
        ``init_cfg=None`` because mmengine cannot merge a command-line dict
        into ``None``: ``--cfg-options
        model.backbone.init_cfg.checkpoint=CKPT`` then sets one key."""
        init = getattr(self.backbone, 'init_cfg', None)
        if (isinstance(init, dict) and init.get('type') == 'Pretrained'
                and init.get('checkpoint') is None):
            if self.freeze_backbone:
                raise ValueError(
                    'freeze_backbone=True trains the decoder on a fixed '
                    'backbone, which needs its weights: pass --cfg-options '
                    'model.backbone.init_cfg.checkpoint=CKPT')
            self.backbone.init_cfg = None
        super().init_weights()

    # -- forward ------------------------------------------------------------
    def extract_feat(self, inputs: torch.Tensor):
        if self.freeze_backbone:
            with torch.no_grad():
                return self.backbone(inputs)
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
            return self.decoder(self.extract_feat(inputs), inputs.shape[-2:])
        raise RuntimeError(f'Invalid mode "{mode}"; choose "loss", '
                           '"predict" or "tensor"')

    def stack_targets(self, data_samples: Sequence[WSOLDataSample],
                      size: Sequence[int],
                      device: torch.device) -> torch.Tensor:
        """The samples' ``gt_seg_map`` as one ``(B, H, W)`` int64 tensor of
        the batch's ``size``; the area outside an image (the preprocessor
        pads at the bottom and right) is ``ignore_index``."""
        height, width = (int(s) for s in size)
        targets = torch.full((len(data_samples), height, width),
                             self.ignore_index, dtype=torch.long,
                             device=device)
        for i, sample in enumerate(data_samples):
            if 'gt_seg_map' not in sample:
                raise KeyError(
                    'FSLSegmenter: a training sample has no gt_seg_map; the '
                    "training pipeline needs LoadWSOLAnnotations(seg_target="
                    "'mask' or 'boxes') (docs/fsl_baseline.md)")
            seg_map = torch.as_tensor(sample.gt_seg_map, device=device)
            h, w = seg_map.shape[-2:]
            if h > height or w > width:
                raise ValueError(f'gt_seg_map {h}x{w} is larger than the '
                                 f'batch images {height}x{width}')
            targets[i, :h, :w] = seg_map
        return targets

    def loss(self, inputs: torch.Tensor,
             data_samples: List[WSOLDataSample]) -> Dict[str, torch.Tensor]:
        logits = self.decoder(self.extract_feat(inputs), inputs.shape[-2:])
        targets = self.stack_targets(data_samples, inputs.shape[-2:],
                                     inputs.device)
        return dict(loss_seg=self.loss_seg(logits, targets))

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[WSOLDataSample]] = None
                ) -> List[WSOLDataSample]:
        """``fcam``: the foreground probability at the input's size."""
        if data_samples is None:
            data_samples = [WSOLDataSample() for _ in range(len(inputs))]
        with torch.no_grad():
            logits = self.decoder(self.backbone(inputs), inputs.shape[-2:])
            foreground = logits.softmax(dim=1)[:, 1]
        for sample, fmap in zip(data_samples, foreground):
            sample.fcam = fmap
        return data_samples
