"""Make a training checkpoint fit for the model zoo.

``python tools/model_converters/publish_model.py IN.pth OUT_STEM``

Keeps ``state_dict`` and ``meta`` (dataset meta, config, epoch) and drops
the optimizer, scheduler and message-hub state, then saves
``OUT_STEM-<first 8 hex of the SHA-256>.pth``: the name convention the
model zoo's loader verifies (docs/model_zoo.md). The input is read with the
project's safe loader (``weights_only=True``).
"""
import argparse
import os
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from fcam_mm.utils import safe_torch_load  # noqa: E402
from fcam_mm.utils.checkpoint import sha256_of  # noqa: E402

KEPT_META = ('dataset_meta', 'cfg', 'epoch', 'iter', 'seed',
             'experiment_name', 'mmengine_version')


def publish(in_file: str, out_stem: str) -> str:
    checkpoint = safe_torch_load(in_file, map_location='cpu')
    if 'state_dict' not in checkpoint:
        raise KeyError(f'{in_file} has no state_dict')
    meta = {k: v for k, v in checkpoint.get('meta', {}).items()
            if k in KEPT_META}
    stem = out_stem[:-4] if out_stem.endswith('.pth') else out_stem
    tmp = f'{stem}.tmp.pth'
    torch.save(dict(state_dict=checkpoint['state_dict'], meta=meta), tmp)
    digest = sha256_of(tmp)
    final = f'{stem}-{digest[:8]}.pth'
    os.replace(tmp, final)
    return final


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file', help='training checkpoint')
    parser.add_argument('out_stem', help='output path without the hash, '
                        'e.g. checkpoints/fcam_tinyresnet_synthetic')
    args = parser.parse_args(argv)
    final = publish(args.in_file, args.out_stem)
    print(f'{final}  ({osp.getsize(final) / 2**20:.2f} MiB)')
    return final


if __name__ == '__main__':
    main()
