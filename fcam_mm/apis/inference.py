"""Build a localizer from a config (or a model-zoo name) and run it on
images."""
import copy
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict

from fcam_mm.datasets.image_inputs import (  # noqa: F401 (re-exported)
    DEFAULT_MAX_PIXELS, ImageLoadError, ImageTooLargeError, ImageType,
    LocalizerPipeline)
from fcam_mm.evaluation.functional.wsol_protocol import (
    largest_box_at_threshold, prepare_scoremap)
from fcam_mm.registry import MODELS
from fcam_mm.utils import register_all_modules
from fcam_mm.utils.checkpoint import strip_wrapper_prefix
from .model_zoo import ModelZooEntry, get_model, looks_like_path, weights_of


class CheckpointMismatchError(ValueError):
    """A checkpoint whose keys or shapes are not those of the config's
    model."""


def resolve_config(config: Union[str, Config]
                   ) -> Tuple[Config, Optional[ModelZooEntry]]:
    """A :class:`Config` (copied), a config file, or a model name from the
    model index; returns the config and the index entry (``None`` unless a
    name was given)."""
    if isinstance(config, Config):
        return copy.deepcopy(config), None
    if not isinstance(config, str):
        raise TypeError('config must be a Config, a config file or a model '
                        f'name, got {type(config).__name__}')
    if osp.isfile(config):
        return Config.fromfile(config), None
    if looks_like_path(config):
        raise FileNotFoundError(f'config file {config} does not exist')
    entry = get_model(config)
    if not osp.isfile(entry.config):
        raise FileNotFoundError(
            f'model {entry.name!r}: its Config {entry.config} (listed in '
            f'{entry.metafile}) does not exist')
    return Config.fromfile(entry.config), entry


def _short_list(keys, limit: int = 8) -> str:
    keys = sorted(keys)
    text = ', '.join(keys[:limit])
    return text + (f', ... ({len(keys)} in all)' if len(keys) > limit else '')


def state_dict_mismatch(model: torch.nn.Module, state_dict: dict) -> str:
    """What differs between ``model``'s state dict and ``state_dict``: the
    missing keys, the unexpected keys and the shape mismatches, as one
    message ('' when they match)."""
    own = model.state_dict()
    missing = set(own) - set(state_dict)
    unexpected = set(state_dict) - set(own)
    shapes = [
        f'{key} (checkpoint {tuple(state_dict[key].shape)}, model '
        f'{tuple(own[key].shape)})' for key in sorted(set(own) & set(
            state_dict)) if hasattr(state_dict[key], 'shape')
        and tuple(state_dict[key].shape) != tuple(own[key].shape)
    ]
    parts = []
    if missing:
        parts.append(f'{len(missing)} missing keys (in the model, not in '
                     f'the checkpoint): {_short_list(missing)}')
        if all(key.startswith('decoder.') for key in missing):
            parts.append('only the decoder is missing: a stage-1 '
                         '(WSOLLocalizer) checkpoint in an F-CAM config?')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys (in the checkpoint,'
                     f' not in the model): {_short_list(unexpected)}')
        if all(key.startswith('decoder.') for key in unexpected):
            parts.append('only decoder keys are unexpected: an F-CAM '
                         'checkpoint in a stage-1 config?')
    if shapes:
        parts.append(f'{len(shapes)} shape mismatches: '
                     + '; '.join(shapes[:8]))
    return '; '.join(parts)


def load_weights(model: torch.nn.Module, checkpoint: str,
                 strict: bool = True, config_name: str = 'the config'
                 ) -> dict:
    """Load ``checkpoint`` (path, URL or model name; safe loader) into
    ``model`` and return the checkpoint dict.

    ``strict``: any missing or unexpected key or shape mismatch raises
    :class:`CheckpointMismatchError` naming them; otherwise mmengine loads
    what matches and logs the rest.
    """
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    if not isinstance(ckpt, dict):
        raise CheckpointMismatchError(
            f'checkpoint {checkpoint} holds a {type(ckpt).__name__}, not a '
            'state dict')
    state_dict = ckpt.get('state_dict', ckpt)
    state_dict = strip_wrapper_prefix(state_dict)
    if strict:
        problems = state_dict_mismatch(model, state_dict)
        if problems:
            raise CheckpointMismatchError(
                f'checkpoint {checkpoint} does not match the model of '
                f'{config_name}: {problems}')
    load_state_dict(model, state_dict, strict=strict)
    return ckpt


def init_localizer(config: Union[str, Config],
                   checkpoint: Optional[str] = None,
                   device: str = 'cpu',
                   cfg_options: Optional[dict] = None,
                   strict: bool = True):
    """Build a localizer and load its weights.

    Args:
        config: a config file, a :class:`Config` (not modified), or a model
            name from ``model-index.yml`` (its ``Config``; and its
            ``Weights`` when ``checkpoint`` is ``None``).
        checkpoint: a path, an http(s) URL or a model name (loaded with
            ``weights_only=True``); ``None`` keeps the initial weights,
            except for a model name, whose published weights are loaded
            (:class:`~fcam_mm.apis.model_zoo.NoWeightsError` if it has
            none).
        device: where the model goes (``'cpu'``, ``'cuda:0'``, ...).
        cfg_options: overrides merged into the config.
        strict: refuse a checkpoint whose keys or shapes differ from the
            model's (:class:`CheckpointMismatchError` names them).

    Returns the model in eval mode on ``device``, with ``model.cfg`` and
    ``model.dataset_meta`` (class names from the checkpoint when it has them).
    """
    register_all_modules()
    cfg, entry = resolve_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if checkpoint is None and entry is not None:
        weights_of(entry)  # NoWeightsError / missing file, named here
        # Loading by name goes through the loader's name resolution, which
        # checks a shipped file against its hash prefix.
        checkpoint = entry.name
    model = MODELS.build(cfg.model)
    model.dataset_meta = {}
    if checkpoint is not None:
        name = config if isinstance(config, str) else 'the given config'
        ckpt = load_weights(model, checkpoint, strict=strict,
                            config_name=name)
        model.dataset_meta = ckpt.get('meta', {}).get('dataset_meta', {}) or {}
    model.cfg = cfg
    return model.to(device).eval()


def map_at_image_size(score_map: torch.Tensor, height: int,
                      width: int) -> np.ndarray:
    """Bicubic resize to the image and per-image min-max normalisation, as
    the evaluation protocol sees the map (its checks included)."""
    return prepare_scoremap(score_map, (height, width))[0]


def predictions_to_results(samples, classes=None, topk: int = 5,
                           threshold: float = 0.5) -> List[dict]:
    """The model's data samples as the dictionaries
    :func:`inference_localizer` returns."""
    results = []
    for sample in samples:
        height, width = sample.ori_shape
        score = sample.pred_score
        k = min(topk, score.numel())
        top_scores, top_labels = score.topk(k)
        out = dict(
            scores=score.cpu().numpy(),
            pred_label=int(top_labels[0]),
            pred_score=float(top_scores[0]),
            topk_labels=top_labels.tolist(),
            topk_scores=top_scores.tolist(),
            cam=sample.cam.cpu().numpy())
        if classes is not None:
            out['pred_class'] = classes[out['pred_label']]
            out['topk_classes'] = [classes[i] for i in out['topk_labels']]
        key = 'fcam' if 'fcam' in sample else 'cam'
        if key == 'fcam':
            out['fcam'] = cv2.resize(
                sample.fcam.cpu().numpy(), (width, height),
                interpolation=cv2.INTER_LINEAR)
        score_map = map_at_image_size(sample.get(key), height, width)
        out['score_map'] = score_map
        out['map_key'] = key
        out['box'] = largest_box_at_threshold(score_map, threshold)
        out['mask'] = score_map >= threshold
        results.append(out)
    return results


@torch.no_grad()
def inference_localizer(model,
                        images: Union[ImageType, Sequence[ImageType]],
                        topk: int = 5,
                        threshold: float = 0.5,
                        batch_size: int = 8,
                        max_pixels: Optional[int] = DEFAULT_MAX_PIXELS
                        ) -> Union[dict, List[dict]]:
    """Classify and localize ``images`` (paths or BGR uint8 arrays; one or a
    list), ``batch_size`` images per forward.

    For each image: ``scores`` (all class probabilities), ``pred_label``,
    ``pred_score`` (its probability), ``topk_labels`` / ``topk_scores``
    (and ``pred_class`` / ``topk_classes`` when the checkpoint has class
    names), ``cam`` (the low-resolution CAM of the predicted class),
    ``fcam`` (the F-CAM map at the image's size, when the model has a
    decoder), ``score_map`` (the map used for localization, ``map_key``:
    F-CAM if present, else the CAM, resized to the image — bicubic — and
    min-max normalised), ``box`` (x0, y0, x1, y1 inclusive, the largest
    region above ``threshold`` by the protocol's rule) and ``mask``
    (``score_map >= threshold``).

    Images of any size go through the config's test pipeline (which
    resizes them to the network's input) and the maps come back at the
    image's own size, so even an image smaller than the network's input
    works. An unreadable file raises :class:`ImageLoadError` naming it; a
    file whose header declares more than ``max_pixels`` pixels (default
    PIL's limit, 89,478,485; ``None`` or 0: no cap) raises
    :class:`ImageTooLargeError` before it is decoded.
    """
    single = isinstance(images, (str, np.ndarray))
    images = [images] if single else list(images)
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    pipeline = LocalizerPipeline(model.cfg, max_pixels)
    classes = model.dataset_meta.get('classes')
    results = []
    for start in range(0, len(images), batch_size):
        batch = [pipeline(pipeline.load(image))
                 for image in images[start:start + batch_size]]
        samples = model.test_step(pseudo_collate(batch))
        results += predictions_to_results(samples, classes, topk, threshold)
    return results[0] if single else results
