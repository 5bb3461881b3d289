"""fcam_mm's registries: children of mmengine's root registries.

Every component type used in a config (``type='...'``) is looked up here. Each
child registry names the package where its modules live (``locations``), so a
config can be built without importing the package first, as in the other
OpenMMLab 2.0 toolboxes::

    from fcam_mm.registry import MODELS
    model = MODELS.build(dict(type='WSOLLocalizer', ...))
"""
import difflib

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import \
    RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry as MMEngineRegistry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS',
    'EVALUATOR', 'VISUALIZERS', 'VISBACKENDS', 'INFERENCERS', 'FUNCTIONS'
]



class UnknownTypeError(KeyError):
    """A config names a ``type`` that no registry knows."""

    def __str__(self):  # KeyError would print the message's repr
        return str(self.args[0])


class Registry(MMEngineRegistry):
    """An mmengine registry whose failed look-ups name the alternatives.

    mmengine's ``get`` returns ``None`` and ``build_from_cfg`` then says only
    that the type is missing. Here a miss raises a ``KeyError`` that lists
    the closest registered names and every type this toolbox registers, so a
    typo in a config's ``type=`` is fixed from the message alone.
    """

    def get(self, key):
        obj = super().get(key)
        if obj is not None or not isinstance(key, str):
            return obj
        own = sorted(self._module_dict)
        inherited = sorted(self.parent._module_dict) if self.parent else []
        close = difflib.get_close_matches(
            key.split('.')[-1], own + inherited, n=5, cutoff=0.6)
        hint = f' Did you mean {", ".join(close)}?' if close else ''
        raise UnknownTypeError(
            f'"{key}" is not a registered {self.name} type (looked in the '
            f'{self.scope} registry and mmengine\'s).{hint} Registered by '
            f'{self.scope}: {", ".join(own) or "none"}; '
            f'{len(inherited)} more come from mmengine and mmcv.')


# Training and testing machinery.
RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, locations=['fcam_mm.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMENGINE_RUNNER_CONSTRUCTORS,
    locations=['fcam_mm.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['fcam_mm.engine'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, locations=['fcam_mm.engine.hooks'])
LOG_PROCESSORS = Registry(
    'log processor',
    parent=MMENGINE_LOG_PROCESSORS,
    locations=['fcam_mm.engine'])
OPTIMIZERS = Registry(
    'optimizer', parent=MMENGINE_OPTIMIZERS, locations=['fcam_mm.engine'])
OPTIM_WRAPPERS = Registry(
    'optim wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    locations=['fcam_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['fcam_mm.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=['fcam_mm.engine'])

# Data.
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=['fcam_mm.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    locations=['fcam_mm.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    locations=['fcam_mm.datasets.transforms'])

# Models: backbones, CAM methods, decoders, losses, localizers, preprocessors.
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['fcam_mm.models'])
MODEL_WRAPPERS = Registry(
    'model wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['fcam_mm.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    locations=['fcam_mm.models'])
TASK_UTILS = Registry(
    'task util', parent=MMENGINE_TASK_UTILS, locations=['fcam_mm.models'])

# Evaluation.
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, locations=['fcam_mm.evaluation'])
EVALUATOR = Registry(
    'evaluator', parent=MMENGINE_EVALUATOR, locations=['fcam_mm.evaluation'])

# Visualisation and inference.
VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    locations=['fcam_mm.visualization'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    locations=['fcam_mm.visualization'])
INFERENCERS = Registry(
    'inferencer', parent=MMENGINE_INFERENCERS, locations=['fcam_mm.apis'])
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, locations=['fcam_mm.utils'])
