"""An F-CAM localizer with one more stage-2 loss term, defined outside
fcam_mm (docs/adding_components.md)."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from fcam_mm.models.localizers import FCAMLocalizer
from fcam_mm.models.utils import IGNORE_INDEX, sample_pseudo_labels
from fcam_mm.registry import MODELS
from fcam_mm.structures import WSOLDataSample


@MODELS.register_module()
class EntropyFCAMLocalizer(FCAMLocalizer):
    """F-CAM whose stage-2 loss gains a term on the decoder's output::

        α·pCE(Ω') + λ·CRF + ASC + entropy_loss(logits)

    Stage 1 is ``FCAMLocalizer``'s. ``FCAMLocalizer.loss`` keeps the
    decoder's logits to itself, so its stage-2 branch is restated here (one
    decoder pass) with the new term added at the end.

    Args:
        entropy_loss (dict, optional): the new term (``PixelEntropyLoss``
            of my_losses.py); ``None`` gives plain F-CAM.
        **kwargs: see ``FCAMLocalizer``.
    """

    def __init__(self,
                 entropy_loss: Optional[dict] = dict(type='PixelEntropyLoss'),
                 **kwargs):
        super().__init__(**kwargs)
        self.entropy_loss = (None if entropy_loss is None else
                             MODELS.build(entropy_loss))

    def loss(self, inputs: torch.Tensor,
             data_samples: List[WSOLDataSample]) -> Dict[str, torch.Tensor]:
        if self.stage == 1:
            return super().loss(inputs, data_samples)
        # FCAMLocalizer.loss, stage 2:
        labels = self._stack_labels(data_samples, inputs.device)
        with torch.no_grad():
            feats = self.extract_feat(inputs)
        cams, _ = self.cam(self, inputs, labels, feats=feats)
        cams = F.interpolate(
            cams.detach()[:, None],
            size=inputs.shape[-2:],
            mode='bilinear',
            align_corners=False)[:, 0]
        seeds = sample_pseudo_labels(cams, **self.seed_cfg)
        logits = self.decoder(feats, inputs.shape[-2:])
        losses = dict(loss_seed=self.seed_loss(logits, seeds))
        ignore = self.seed_cfg.get('ignore_index', IGNORE_INDEX)
        unseeded = (seeds != ignore).flatten(1).any(1).logical_not()
        losses['unseeded_images'] = unseeded.sum().float()
        probs = logits.softmax(dim=1)
        if self.crf_loss is not None:
            losses['loss_crf'] = self.crf_loss(probs, self.raw_images(inputs))
        if self.size_loss is not None:
            losses['loss_size'] = self.size_loss(probs)
        # The new term:
        if self.entropy_loss is not None:
            losses['loss_entropy'] = self.entropy_loss(logits)
        return losses
