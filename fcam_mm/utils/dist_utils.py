"""Distributed start-up that also works on machines without CUDA."""
import os
import subprocess

import torch
import torch.distributed as dist


def _slurm_to_torch_env():
    """Fill torch's env:// variables from Slurm's (as mmengine's slurm
    launcher does), without touching CUDA. Ranks are Slurm's, overwriting
    what is set (tools/train.py sets ``LOCAL_RANK=0`` by default)."""
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        node_list = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')


def _mpi_to_torch_env():
    os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
    os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
    os.environ['LOCAL_RANK'] = os.environ['OMPI_COMM_WORLD_LOCAL_RANK']
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29500')


def setup_cpu_distributed(cfg, launcher: str) -> bool:
    """On a machine without CUDA, start the process group with gloo and make
    DDP wrap a CPU module, so ``dist_train.sh CONFIG 2`` runs anywhere.

    mmengine's launchers call ``torch.cuda.set_device`` and default to NCCL,
    both of which fail without a GPU, and its DDP wrapper passes
    ``device_ids=[local_rank]``, which torch rejects for CPU modules. With
    CUDA present nothing is changed and mmengine starts as usual.

    Returns whether the CPU fallback was applied.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher == 'slurm':
        _slurm_to_torch_env()
    elif launcher == 'mpi':
        _mpi_to_torch_env()
    elif launcher != 'pytorch':
        raise ValueError(f'unknown launcher {launcher!r}; choose none, '
                         'pytorch, slurm or mpi')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False)
    wrapper['device_ids'] = None
    if 'find_unused_parameters' in cfg:
        wrapper.setdefault('find_unused_parameters',
                           cfg.find_unused_parameters)
    cfg.model_wrapper_cfg = wrapper
    return True


def teardown_distributed() -> None:
    """Wait for every rank, then destroy the process group.

    Without it a rank that finishes first exits while another still saves
    the best checkpoint, and gloo's threads abort the early rank at
    interpreter exit ("terminate called without an active exception"),
    which fails the whole torchrun job.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
