"""Export a localizer's inference graph to ONNX and check it.

    python tools/deployment/pytorch2onnx.py MODEL [--checkpoint CKPT] \
        --output-file model.onnx [--shape H W] [--image IMG]

MODEL: a config file or a model-zoo name. The graph maps the preprocessed
image (B, 3, H, W) to class scores, the CAM of the predicted class and (F-CAM
models) the full-resolution F-CAM map; the batch axis is dynamic. Unless
--skip-check, onnxruntime runs the exported file on the same inputs as
PyTorch (IMG through the test pipeline, or random inputs) and the max
absolute difference of each output is printed; above --atol it fails.
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from fcam_mm.apis import init_localizer  # noqa: E402
from fcam_mm.datasets.image_inputs import LocalizerPipeline  # noqa: E402
from fcam_mm.apis.onnx_export import (compare_with_onnxruntime,  # noqa: E402
                                      export_onnx, network_input_size)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export to ONNX')
    parser.add_argument('model', help='config file or model-zoo name')
    parser.add_argument('--checkpoint', help='checkpoint path, URL or name')
    parser.add_argument('--output-file', default='localizer.onnx')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help="input size (default: the test pipeline's "
                        'Resize scale)')
    parser.add_argument('--opset-version', type=int, default=18)
    parser.add_argument('--image', help='check on this image (through the '
                        'test pipeline) instead of random inputs')
    parser.add_argument('--check-batch', type=int, default=2,
                        help='batch size of the random check inputs')
    parser.add_argument('--skip-check', action='store_true',
                        help='do not compare with onnxruntime')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='largest accepted |ONNX - PyTorch|')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def check_inputs(model, args, size):
    if args.image is None:
        generator = torch.Generator().manual_seed(0)
        return torch.randn(args.check_batch, 3, *size, generator=generator)
    pipeline = LocalizerPipeline(model.cfg)
    data = model.data_preprocessor(
        dict(inputs=[pipeline(pipeline.load(args.image))['inputs']]))
    inputs = data['inputs'].cpu()
    if tuple(inputs.shape[-2:]) != tuple(size):
        raise ValueError(f'{args.image} becomes {tuple(inputs.shape[-2:])} '
                         f'in the test pipeline; the export is {size}')
    return inputs


def main(argv=None):
    args = parse_args(argv)
    if args.checkpoint is None and osp.isfile(args.model):
        print(f'warning: no --checkpoint, exporting the initial weights of '
              f'{args.model}')
    model = init_localizer(args.model, args.checkpoint,
                           cfg_options=args.cfg_options)
    size = tuple(args.shape) if args.shape else network_input_size(model.cfg)
    export_onnx(model, args.output_file, size,
                opset_version=args.opset_version)
    print(f'exported {args.output_file} (input 1x3x{size[0]}x{size[1]}, '
          'dynamic batch)')
    if args.skip_check:
        return None
    diffs = compare_with_onnxruntime(model, args.output_file,
                                     check_inputs(model, args, size))
    for name, diff in diffs.items():
        print(f'max |onnxruntime - pytorch| {name}: {diff:.3e}')
    worst = max(diffs, key=diffs.get)
    if diffs[worst] > args.atol:
        raise SystemExit(f'{args.output_file}: {worst} differs from PyTorch '
                         f'by {diffs[worst]:.3e} > --atol {args.atol}')
    return diffs


if __name__ == '__main__':
    main()
