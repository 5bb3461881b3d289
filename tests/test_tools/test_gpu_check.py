"""tools/analysis_tools/gpu_check.py: refuses to report GPU figures without
CUDA, and its whole path (CUDA tests, both stages, CRF, maps, table) runs
on the CPU with --allow-cpu."""
import json
import math

import pytest
import torch

from .tool_helpers import load_tool


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is present')
def test_without_cuda_it_says_so_and_exits_non_zero(capsys):
    with pytest.raises(SystemExit) as info:
        load_tool('analysis_tools/gpu_check.py').main([])
    assert info.value.code == 2
    assert 'no CUDA device' in capsys.readouterr().err


def test_smoke_run_on_cpu(tmp_path, capsys):
    out = tmp_path / 'gpu.json'
    tool = load_tool('analysis_tools/gpu_check.py')
    tool.main(['--device', 'cpu', '--allow-cpu', '--iters', '1',
               '--warmup', '0', '--batch-size', '2', '--size', '64',
               '--crf-batch', '2', '--map-batch', '2', '--repeat', '1',
               '--out', str(out)])
    printed = capsys.readouterr().out
    results = json.loads(out.read_text())
    # the CUDA tests ran (skipped here, not failed)
    assert results['tests']['returncode'] == 0
    assert 'skipped' in results['tests']['summary']
    stage1, stage2 = results['stages']
    assert (stage1['stage'], stage2['stage']) == (1, 2)
    assert stage1['img_per_s'] > 0 and stage2['img_per_s'] > 0
    assert set(stage2['losses']) >= {'loss_seed', 'loss_crf', 'loss_size'}
    assert all(math.isfinite(v) for v in stage2['losses'].values())
    assert results['crf']['batch'] == 2 and results['crf']['min_s'] > 0
    methods = [row['method'] for row in results['maps']['cams']]
    assert methods == ['CAM', 'GradCAM', 'GradCAMPlusPlus',
                       'SmoothGradCAMPlusPlus', 'XGradCAM', 'LayerCAM']
    assert 'smoke run, not GPU figures' in printed
    assert '| stage 2 training, batch 2 |' in printed
    assert '| F-CAM map (encoder + decoder), ms/image |' in printed
