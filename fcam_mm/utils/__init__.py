from .checkpoint import (UnsafeCheckpointError, enable_safe_checkpoint_loading,
                         safe_torch_load)
from .dist_utils import setup_cpu_distributed, teardown_distributed
from .misc import load_script
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'enable_safe_checkpoint_loading',
    'safe_torch_load', 'UnsafeCheckpointError', 'setup_cpu_distributed',
    'teardown_distributed', 'load_script'
]
