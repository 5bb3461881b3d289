"""Every component fcam_mm registers builds from a config dict."""
import pytest
import torch

from fcam_mm import registry as fcam_registry
from .test_datasets.wsol_tree import make_box_and_mask_tree

TINY_BACKBONE = dict(type='TinyResNet')
TINY_HEAD = dict(type='GAPClsHead', num_classes=3, in_channels=128)
TINY_DECODER = dict(
    in_channels=(16, 32, 64, 128), decoder_channels=(64, 32, 16, 16))


def build_args(tmp_path):
    """Minimal arguments of each registered type, keyed by registry name.

    A new component must be added here, so that it is built at least once.
    """
    make_box_and_mask_tree(str(tmp_path))
    dataset = dict(data_root=str(tmp_path), ann_file='metadata/test',
                   data_prefix=dict(img_path='images', mask_path='masks'))
    return {
        'dataset': {
            'WSOLDataset': dataset,
            'CUBDataset': dataset,
            'ILSVRCDataset': dataset,
            'OpenImagesDataset': dict(dataset,
                                      mask_file='localization_mask.txt'),
            'CocoWSOLDataset': None,  # built in test_coco_dataset
        },
        'transform': {
            'LoadImageFromFile': {},
            'LoadWSOLAnnotations': {},
            'PackWSOLInputs': {},
            'RandomCrop': dict(crop_size=8),
        },
        'model': {
            'TinyResNet': {},
            'GAPClsHead': dict(num_classes=3, in_channels=8),
            'CAM': {},
            'GradCAM': {},
            'GradCAMPlusPlus': {},
            'SmoothGradCAMPlusPlus': {},
            'XGradCAM': {},
            'LayerCAM': {},
            'HiResCAM': {},
            'ScoreCAM': {},
            'EigenCAM': {},
            'ResNet50WSOL': {},
            'VGG16WSOL': {},
            'InceptionV3WSOL': {},
            'WSOLLocalizer': dict(backbone=TINY_BACKBONE, head=TINY_HEAD),
            'FCAMUNetDecoder': TINY_DECODER,
            'PartialCrossEntropyLoss': {},
            'AbsoluteSizeConstraintLoss': {},
            'DenseCRFLoss': {},
            'FCAMLocalizer': dict(
                backbone=TINY_BACKBONE, head=TINY_HEAD,
                decoder=dict(type='FCAMUNetDecoder', **TINY_DECODER)),
            'CenterGaussianLocalizer': dict(sigma=0.25),
            'FSLSegmenter': dict(
                backbone=TINY_BACKBONE,
                decoder=dict(type='FCAMUNetDecoder', **TINY_DECODER)),
        },
        'hook': {
            'BadSampleReportHook': {},
            'CheckInvalidLossHook': {},
            'FCAMStageHook': dict(switch_epoch=1),
            'LogBarrierHook': {},
            'RNGStateHook': {},
            'SafeCheckpointHook': dict(interval=1),
            'WSOLVisualizationHook': {},
        },
        'optim wrapper': {
            'AutocastOptimWrapper': dict(optimizer=torch.optim.SGD(
                [torch.nn.Parameter(torch.zeros(1))], lr=0.1)),
        },
        'visualizer': {
            'WSOLVisualizer': dict(name='registry-test-visualizer'),
        },
        'metric': {
            'BoxLocalizationMetric': dict(map_key='fcam'),
            'PixelLocalizationMetric': {},
            'MapCoverageMetric': dict(map_key='fcam', normalize=False),
            'ClassificationMetric': dict(topk=(1, )),
        },
    }


def fcam_registries():
    return [
        value for value in vars(fcam_registry).values()
        if isinstance(value, fcam_registry.Registry)
    ]


def test_every_registered_type_builds(tmp_path):
    table = build_args(tmp_path)
    built = 0
    for reg in fcam_registries():
        for name in sorted(reg.module_dict):
            args = table.get(reg.name, {})
            assert name in args, (
                f'{reg.name} type {name} has no entry in build_args(): add '
                'its minimal arguments so the registry test builds it')
            if args[name] is None:
                continue
            obj = reg.build(dict(type=name, **args[name]))
            assert isinstance(obj, reg.module_dict[name])
            built += 1
    assert built >= 10


@pytest.mark.parametrize('reg_name', ['MODELS', 'DATASETS', 'TRANSFORMS'])
def test_unknown_type_names_alternatives(reg_name):
    reg = getattr(fcam_registry, reg_name)
    with pytest.raises(KeyError, match='Registered by fcam_mm: '):
        reg.build(dict(type='NoSuchComponent'))
