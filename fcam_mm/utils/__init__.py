from .checkpoint import (CheckpointDownloadError, UnsafeCheckpointError,
                         download_checkpoint, enable_safe_checkpoint_loading,
                         safe_torch_load, verify_hash_prefix)
from .dist_utils import setup_cpu_distributed, teardown_distributed
from .misc import load_script
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'enable_safe_checkpoint_loading',
    'safe_torch_load', 'UnsafeCheckpointError', 'CheckpointDownloadError',
    'download_checkpoint', 'verify_hash_prefix', 'setup_cpu_distributed',
    'teardown_distributed', 'load_script'
]
