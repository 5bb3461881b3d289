"""F-CAM (Belharbi et al., WACV 2022): classifier + CAM + U-Net decoder."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from fcam_mm.structures import WSOLDataSample
from ..utils import IGNORE_INDEX, sample_pseudo_labels
from ..utils.crf_preference import raw_images
from ..utils.sampling_regions import check_seed_cfg
from .wsol_localizer import WSOLLocalizer


@MODELS.register_module()
class FCAMLocalizer(WSOLLocalizer):
    """A WSOL classifier whose CAM guides a decoder to a full-resolution map.

    Training has two stages (switched by ``FCAMStageHook``):

    1. the classifier (backbone + GAP head) is trained with cross-entropy on
       image labels; the decoder is idle.
    2. the classifier is frozen (parameters and BatchNorm statistics) and
       the decoder ``f`` is trained with the pixel-alignment loss of eq. 3:

       ``α Σ_{p∈Ω'} H(Y_p, S_p) + λ R_CRF(S, X) + ASC(S)``

       where ``Y`` are pseudo-labels sampled from the CAM of the GT class
       (``C⁺``: Otsu region, ``C⁻``: the ``n⁻`` lowest pixels), ``R_CRF`` the
       dense CRF loss over colour and position, and ASC the absolute size
       constraint on both maps solved with the log-barrier extension.

    At inference the F-CAM map is ``softmax(f(features))[:, 1]`` at the
    input's resolution (``fcam`` in the data samples); the classifier's CAM
    (``cam``) stays available for side-by-side evaluation.

    Args:
        decoder (dict): the decoder (``FCAMUNetDecoder``) over the backbone's
            feature maps.
        seed_loss (dict): partial cross-entropy on the sampled pixels (α).
        crf_loss (dict, optional): dense CRF loss (λ); ``None`` disables it.
        size_loss (dict, optional): absolute size constraint; ``None``
            disables it.
        seed_cfg (dict): arguments of :func:`sample_pseudo_labels`
            (``n_neg``, ``num_pos``, ``num_neg``, ``erode_kernel``,
            ``seed_size``).
        stage (int): initial stage (1 or 2); the stage hook sets it.
        **kwargs: see :class:`WSOLLocalizer`.
    """

    def __init__(self,
                 decoder: dict,
                 seed_loss: dict = dict(type='PartialCrossEntropyLoss'),
                 crf_loss: Optional[dict] = dict(type='DenseCRFLoss'),
                 size_loss: Optional[dict] = dict(
                     type='AbsoluteSizeConstraintLoss'),
                 seed_cfg: Optional[dict] = None,
                 stage: int = 1,
                 **kwargs):
        super().__init__(**kwargs)
        self.decoder = MODELS.build(decoder)
        self.seed_loss = MODELS.build(seed_loss)
        self.crf_loss = None if crf_loss is None else MODELS.build(crf_loss)
        self.size_loss = (None if size_loss is None else
                          MODELS.build(size_loss))
        self.seed_cfg = dict(seed_cfg or {})
        # Seeds are drawn only in stage 2: a bad n⁻ must fail here, not
        # after the whole of stage 1.
        check_seed_cfg(self.seed_cfg)
        # The seeds' "unlabelled" value and the seed loss's must agree, or
        # the first stage-2 step fails (an index error; on CUDA, a device
        # assert).
        loss_ignore = getattr(self.seed_loss, 'ignore_index', None)
        if loss_ignore is not None:
            seed_ignore = self.seed_cfg.setdefault('ignore_index', loss_ignore)
            if seed_ignore != loss_ignore:
                raise ValueError(
                    f'seed_cfg.ignore_index={seed_ignore} differs from '
                    f'seed_loss.ignore_index={loss_ignore}: set both to the '
                    'same value')
        self.stage = 1
        self.set_stage(stage)

    # -- stages -------------------------------------------------------------
    def classifier_modules(self):
        return [self.backbone, self.head]

    def set_stage(self, stage: int) -> None:
        """Stage 1 trains the classifier; stage 2 freezes it (no gradients,
        BatchNorm in eval mode) and trains the decoder."""
        if stage not in (1, 2):
            raise ValueError(f'stage must be 1 or 2, got {stage}')
        self.stage = stage
        for module in self.classifier_modules():
            for param in module.parameters():
                param.requires_grad_(stage == 1)
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.stage == 2:
            for module in self.classifier_modules():
                module.eval()
        return self

    # -- losses -------------------------------------------------------------
    def raw_images(self, inputs: torch.Tensor) -> torch.Tensor:
        """Undo the data preprocessor's normalisation: RGB in 0–255, what
        the CRF's colour kernel (σ_rgb = 15) is defined on."""
        return raw_images(self.data_preprocessor, inputs)

    def loss(self, inputs: torch.Tensor,
             data_samples: List[WSOLDataSample]) -> Dict[str, torch.Tensor]:
        if self.stage == 1:
            return super().loss(inputs, data_samples)
        labels = self._stack_labels(data_samples, inputs.device)
        with torch.no_grad():
            feats = self.extract_feat(inputs)
        seeds = self.pseudo_labels(inputs, labels, feats)
        logits = self.decoder(feats, inputs.shape[-2:])
        return self.decoder_losses(logits, seeds, inputs)

    def pseudo_labels(self, inputs: torch.Tensor, labels: torch.Tensor,
                      feats) -> torch.Tensor:
        """``Y`` on ``Ω'`` (eq. 2): seeds sampled from the CAM of the GT
        class, interpolated (bilinear) to the input's size. (B, H, W) int64,
        ``ignore_index`` outside the seeds."""
        cams, _ = self.cam(self, inputs, labels, feats=feats)
        cams = F.interpolate(
            cams.detach()[:, None],
            size=inputs.shape[-2:],
            mode='bilinear',
            align_corners=False)[:, 0]
        return sample_pseudo_labels(cams, **self.seed_cfg)

    def decoder_losses(self, logits: torch.Tensor, seeds: torch.Tensor,
                       inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The terms of eq. 3 for the decoder's ``logits`` (B, 2, H, W):
        ``loss_seed`` (α·partial CE on ``seeds``), ``loss_crf`` (λ·R) and
        ``loss_size`` (ASC), the last two when configured, plus the logged
        count ``unseeded_images``. A subclass adds a term by extending this
        method (``docs/adding_components.md``)."""
        losses = dict(loss_seed=self.seed_loss(logits, seeds))
        # Images whose CAM is constant or not finite get no seed (a defined
        # case, see sample_pseudo_labels); logged, not silently dropped.
        ignore = self.seed_cfg.get('ignore_index', IGNORE_INDEX)
        unseeded = (seeds != ignore).flatten(1).any(1).logical_not()
        losses['unseeded_images'] = unseeded.sum().float()
        probs = logits.softmax(dim=1)
        if self.crf_loss is not None:
            losses['loss_crf'] = self.crf_loss(probs, self.raw_images(inputs))
        if self.size_loss is not None:
            losses['loss_size'] = self.size_loss(probs)
        return losses

    # -- inference ----------------------------------------------------------
    def predict(self, inputs, data_samples=None) -> List[WSOLDataSample]:
        """Scores, the CAM and the F-CAM map from one backbone pass."""
        with torch.no_grad():
            feats = self.extract_feat(inputs)
            fcam = self.decoder(feats, inputs.shape[-2:]).softmax(dim=1)[:, 1]
        data_samples = self.predict_from_feats(inputs, feats, data_samples)
        for sample, fmap in zip(data_samples, fcam):
            sample.fcam = fmap
        return data_samples
