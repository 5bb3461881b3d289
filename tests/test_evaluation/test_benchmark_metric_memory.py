"""tools/analysis_tools/benchmark_metric_memory.py in quick mode: it runs
one fresh process per (metric, N), prints the markdown table and the RSS
ratios, and its children evaluate exactly what mmengine's Evaluator gives
in-process on the same generated samples. Tiny N: this checks the tool,
not the memory figures (docs/benchmarks.md has the 1k / 10k / 50k run)."""
import os.path as osp

import pytest

from fcam_mm.utils import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_metric_memory.py')


def test_quick_run_prints_the_table(capsys):
    tool = load_script(TOOL)
    result = tool.main(['--quick', '--batch-size', '8'])
    out = capsys.readouterr().out
    assert '| metric | N | peak RSS (MiB) |' in out
    rows = [
        line for line in out.splitlines()
        if line.startswith(('| box |', '| pixel |'))
    ]
    assert len(rows) == 2 * len(tool.QUICK_SIZES)
    assert 'box: RSS(64) / RSS(16) = ' in out
    assert 'pixel: RSS(64) / RSS(16) = ' in out
    assert 'torch ' in out and 'load average' in out
    got = result['rows']
    assert [(r['metric'], r['n']) for r in got] == [(m, n)
                                                    for m in ('box', 'pixel')
                                                    for n in tool.QUICK_SIZES]
    for r in got:
        assert r['peak_mib'] >= r['baseline_mib'] > 0
        assert r['seconds'] >= r['metric_seconds'] > 0
    assert set(result['summary']) == {'box', 'pixel'}

    # the child's numbers are the Evaluator's on the same samples
    from mmengine.evaluator import Evaluator
    for name in ('box', 'pixel'):
        evaluator = Evaluator([tool.build_metric(name)])
        for samples in tool.batches(64, 8, 'cam7', 0, 1000, name == 'pixel'):
            evaluator.process(data_samples=samples, data_batch=None)
        expected = evaluator.evaluate(64)
        child = next(r for r in got if r['metric'] == name and r['n'] == 64)
        assert child['metrics'] == expected  # JSON keeps floats exactly


def test_generator_holds_one_batch():
    tool = load_script(TOOL)
    stream = tool.batches(10, 4, 'noise', 0, 5, True)
    sizes = [len(b) for b in stream]
    assert sizes == [4, 4, 2]
    first = next(tool.batches(3, 3, 'cam7', 0, 5, True))
    assert [s.sample_idx for s in first] == [0, 1, 2]
    for s in first:
        assert tuple(s.cam.shape) == (224, 224)
        assert str(s.cam.dtype) == 'torch.float32'
        assert s.gt_mask.shape == (224, 224)
        assert set(s.gt_mask.ravel().tolist()) <= {0, 1, 255}


def test_bad_sizes_are_an_error():
    tool = load_script(TOOL)
    with pytest.raises(SystemExit, match='positive'):
        tool.main(['--sizes', '0'])
