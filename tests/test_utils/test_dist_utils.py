"""Slurm / MPI ranks on the CPU fallback: the launcher's own variables win
over the LOCAL_RANK=0 that tools/train.py sets by default."""
import os

from fcam_mm.utils import dist_utils


def forget_rank_env(monkeypatch):
    # Registered with monkeypatch so the values set below are undone.
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                 'MASTER_PORT'):
        monkeypatch.delenv(name, raising=False)


def test_slurm_ranks_overwrite_defaults(monkeypatch):
    forget_rank_env(monkeypatch)
    monkeypatch.setenv('LOCAL_RANK', '0')  # what parse_args leaves behind
    monkeypatch.setenv('SLURM_PROCID', '5')
    monkeypatch.setenv('SLURM_NTASKS', '8')
    monkeypatch.setenv('SLURM_LOCALID', '1')
    monkeypatch.setenv('MASTER_ADDR', 'node0')
    monkeypatch.delenv('MASTER_PORT', raising=False)
    dist_utils._slurm_to_torch_env()
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'],
            os.environ['LOCAL_RANK']) == ('5', '8', '1')
    assert os.environ['MASTER_ADDR'] == 'node0'  # given: kept
    assert os.environ['MASTER_PORT'] == '29500'


def test_mpi_ranks_overwrite_defaults(monkeypatch):
    forget_rank_env(monkeypatch)
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('OMPI_COMM_WORLD_RANK', '3')
    monkeypatch.setenv('OMPI_COMM_WORLD_SIZE', '4')
    monkeypatch.setenv('OMPI_COMM_WORLD_LOCAL_RANK', '1')
    dist_utils._mpi_to_torch_env()
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'],
            os.environ['LOCAL_RANK']) == ('3', '4', '1')
