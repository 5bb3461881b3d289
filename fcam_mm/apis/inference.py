"""Build a localizer from a config and run it on images."""
import copy
from typing import List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.runner import load_checkpoint

from fcam_mm.evaluation.functional.wsol_protocol import (
    largest_box_at_threshold, normalize_scoremap)
from fcam_mm.registry import MODELS
from fcam_mm.utils import register_all_modules

ImageType = Union[str, np.ndarray]


def init_localizer(config: Union[str, Config],
                   checkpoint: Optional[str] = None,
                   device: str = 'cpu',
                   cfg_options: Optional[dict] = None):
    """Build the model of ``config`` and load ``checkpoint`` (a path or an
    http(s) URL, loaded with ``weights_only=True``).

    Returns the model in eval mode on ``device``, with ``model.cfg`` and
    ``model.dataset_meta`` (class names from the checkpoint when it has them).
    """
    register_all_modules()
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(
        config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = MODELS.build(cfg.model)
    model.dataset_meta = {}
    if checkpoint is not None:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        model.dataset_meta = ckpt.get('meta', {}).get('dataset_meta', {}) or {}
    model.cfg = cfg
    return model.to(device).eval()


def _test_pipeline(cfg: Config) -> list:
    """The config's test pipeline without ground-truth loading."""
    steps = [copy.deepcopy(t) for t in cfg.test_dataloader.dataset.pipeline
             if t['type'] != 'LoadWSOLAnnotations']
    if not steps or steps[0]['type'] != 'LoadImageFromFile':
        raise ValueError('the test pipeline must start with '
                         'LoadImageFromFile, got '
                         f'{[t["type"] for t in steps]}')
    return steps


def map_at_image_size(score_map: torch.Tensor, height: int,
                      width: int) -> np.ndarray:
    """Bicubic resize to the image and per-image min-max normalisation, as
    the evaluation protocol sees the map."""
    resized = cv2.resize(
        score_map.detach().cpu().double().numpy(), (width, height),
        interpolation=cv2.INTER_CUBIC)
    return normalize_scoremap(resized, inplace=True)[0]


@torch.no_grad()
def inference_localizer(model,
                        images: Union[ImageType, Sequence[ImageType]],
                        topk: int = 5,
                        threshold: float = 0.5,
                        batch_size: int = 8) -> Union[dict, List[dict]]:
    """Classify and localize ``images`` (paths or BGR uint8 arrays).

    For each image: ``pred_label``, ``pred_score`` (its probability),
    ``topk_labels`` / ``topk_scores``, ``cam`` (the low-resolution CAM of the
    predicted class), ``fcam`` (the F-CAM map at the image's size, when the
    model has a decoder), ``score_map`` (the map used for localization —
    F-CAM if present, else the CAM — resized to the image and min-max
    normalised), ``box`` (x0, y0, x1, y1 inclusive, the largest region above
    ``threshold``) and ``mask`` (``score_map >= threshold``).
    """
    single = isinstance(images, (str, np.ndarray))
    images = [images] if single else list(images)
    pipeline = _test_pipeline(model.cfg)
    load, rest = pipeline[0], Compose(pipeline[1:])
    from fcam_mm.registry import TRANSFORMS
    loader = TRANSFORMS.build(load)
    device = next(model.parameters()).device
    classes = model.dataset_meta.get('classes')
    results = []
    for start in range(0, len(images), batch_size):
        batch = []
        for image in images[start:start + batch_size]:
            if isinstance(image, str):
                item = loader(dict(img_path=image))
            else:
                if image.ndim != 3 or image.dtype != np.uint8:
                    raise ValueError('an array image must be HxWx3 uint8 '
                                     f'(BGR), got {image.shape} '
                                     f'{image.dtype}')
                item = dict(img=image, img_path='<array>',
                            img_shape=image.shape[:2],
                            ori_shape=image.shape[:2])
            batch.append(rest(item))
        samples = model.test_step(pseudo_collate(batch))
        for sample in samples:
            height, width = sample.ori_shape
            score = sample.pred_score
            k = min(topk, score.numel())
            top_scores, top_labels = score.topk(k)
            out = dict(
                pred_label=int(top_labels[0]),
                pred_score=float(top_scores[0]),
                topk_labels=top_labels.tolist(),
                topk_scores=top_scores.tolist(),
                cam=sample.cam.cpu().numpy())
            if classes is not None:
                out['pred_class'] = classes[out['pred_label']]
            key = 'fcam' if 'fcam' in sample else 'cam'
            if key == 'fcam':
                out['fcam'] = cv2.resize(
                    sample.fcam.cpu().numpy(), (width, height),
                    interpolation=cv2.INTER_LINEAR)
            score_map = map_at_image_size(sample.get(key), height, width)
            out['score_map'] = score_map
            out['box'] = largest_box_at_threshold(score_map, threshold)
            out['mask'] = score_map >= threshold
            results.append(out)
    return results[0] if single else results
