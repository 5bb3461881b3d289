"""What must hold on a CUDA device (skipped without one; run by
``tools/analysis_tools/gpu_check.py``): the same answers as the CPU for the
seeds, the CAM methods and the stage-2 losses, float32 losses under float16
autocast, and training steps of both stages with mixed precision.

``FCAM_TEST_DEVICE=cpu`` runs these tests on the CPU (CPU against CPU), to
check the tests themselves where no GPU is."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from fcam_mm.models.utils import sample_pseudo_labels
from fcam_mm.registry import MODELS
from fcam_mm.structures import WSOLDataSample

DEVICE = os.environ.get('FCAM_TEST_DEVICE', 'cuda')
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(DEVICE == 'cuda' and not torch.cuda.is_available(),
                       reason='needs CUDA'),
]


def tiny_fcam():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fcam',
                                   'tinyresnet_synthetic.py'))
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    return MODELS.build(cfg.model), cfg


def test_seeds_equal_cpu_seeds():
    """The seeds' random draws come from a CPU generator: the same pixels
    on every device."""
    g = torch.Generator().manual_seed(0)
    cams = torch.rand(4, 48, 48, generator=g)
    cpu = sample_pseudo_labels(cams, n_neg=0.3, num_pos=3, num_neg=3,
                               generator=torch.Generator().manual_seed(1))
    gpu = sample_pseudo_labels(cams.to(DEVICE), n_neg=0.3, num_pos=3,
                               num_neg=3,
                               generator=torch.Generator().manual_seed(1))
    assert gpu.device.type == torch.device(DEVICE).type
    assert torch.equal(gpu.cpu(), cpu)


@pytest.mark.parametrize('method', [
    'CAM', 'GradCAM', 'GradCAMPlusPlus', 'XGradCAM', 'LayerCAM',
    'HiResCAM', 'EigenCAM'])
def test_cam_methods_match_cpu(method):
    model, _ = tiny_fcam()
    model.eval()
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator()
                         .manual_seed(2))
    targets = torch.tensor([1, 3])
    cam = MODELS.build(dict(type=method))
    cpu, _ = cam(model, images, targets)
    gpu, _ = cam(model.to(DEVICE), images.to(DEVICE), targets.to(DEVICE))
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-3, atol=1e-4)


def stage2_losses(model, device, autocast=False):
    model = model.to(device)
    model.set_stage(2)
    model.train()
    g = torch.Generator().manual_seed(3)
    inputs = torch.randn(4, 3, 64, 64, generator=g).to(device)
    labels = torch.tensor([0, 1, 2, 3], device=device)
    with torch.no_grad():
        feats = model.extract_feat(inputs)
    cams, _ = model.cam(model, inputs, labels, feats=feats)
    seeds = sample_pseudo_labels(
        torch.nn.functional.interpolate(cams[:, None], size=(64, 64),
                                        mode='bilinear')[:, 0],
        generator=torch.Generator().manual_seed(0))
    dtype = torch.float16 if device.type == 'cuda' else torch.bfloat16
    with torch.autocast(device.type, dtype=dtype, enabled=autocast):
        logits = model.decoder(feats, (64, 64))
        losses = model.decoder_losses(logits, seeds, inputs)
    return logits, losses


def test_stage2_losses_match_cpu():
    model, _ = tiny_fcam()
    _, cpu = stage2_losses(model, torch.device('cpu'))
    _, gpu = stage2_losses(model, torch.device(DEVICE))
    for name in ('loss_seed', 'loss_crf', 'loss_size'):
        torch.testing.assert_close(gpu[name].cpu(), cpu[name], rtol=1e-3,
                                   atol=1e-6, msg=name)


def test_losses_are_float32_under_autocast():
    model, _ = tiny_fcam()
    logits, losses = stage2_losses(model, torch.device(DEVICE),
                                   autocast=True)
    assert logits.dtype in (torch.float16, torch.bfloat16)
    for name in ('loss_seed', 'loss_crf', 'loss_size'):
        assert losses[name].dtype == torch.float32, name
        assert torch.isfinite(losses[name]), name


def test_mixed_precision_training_steps_of_both_stages():
    from mmengine.optim import build_optim_wrapper
    model, cfg = tiny_fcam()
    model = model.to(DEVICE)
    optim_cfg = cfg.optim_wrapper
    if torch.device(DEVICE).type == 'cuda':
        optim_cfg.type = 'AmpOptimWrapper'
        # dynamic, from 2^8 rather than 2^16: a step whose scaled gradients
        # overflow is skipped, and the parameters must move in 3 steps
        optim_cfg.loss_scale = dict(init_scale=256.0)
    else:
        optim_cfg.type = 'AutocastOptimWrapper'
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    g = torch.Generator().manual_seed(4)
    data = dict(
        inputs=[torch.randint(0, 256, (3, 64, 64), generator=g,
                              dtype=torch.uint8) for _ in range(4)],
        data_samples=[WSOLDataSample().set_gt_label(i) for i in range(4)])
    for stage in (1, 2):
        model.set_stage(stage)
        model.train()
        before = {k: v.detach().clone() for k, v in model.state_dict().items()}
        for _ in range(3):
            losses = model.train_step(data, optim_wrapper)
        assert all(torch.isfinite(v) for v in losses.values()), losses
        changed = {k.split('.')[0] for k, v in model.state_dict().items()
                   if v.is_floating_point() and not torch.equal(v,
                                                                before[k])}
        # stage 1 trains the classifier, stage 2 only the decoder
        expected = {'backbone', 'head'} if stage == 1 else {'decoder'}
        assert changed == expected, (stage, changed)
