from .inference import (CheckpointMismatchError, ImageLoadError,
                        inference_localizer, init_localizer)
from .model_zoo import (ModelZooEntry, NoWeightsError, UnknownModelError,
                        get_model, list_models, load_model_index,
                        resolve_checkpoint)

__all__ = [
    'init_localizer', 'inference_localizer', 'CheckpointMismatchError',
    'ImageLoadError', 'ModelZooEntry', 'UnknownModelError', 'NoWeightsError',
    'get_model', 'list_models', 'load_model_index', 'resolve_checkpoint'
]
