"""tools/analysis_tools/benchmark_metrics.py: its straightforward protocol
(one findContours per threshold, per-image np.histogram) gives every number
the metrics give, on every map family (a second, independent oracle), and
it reports what it measured. Tiny sizes: this checks results, not speed."""
import os.path as osp

import pytest

from fcam_mm.utils import load_script

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_straightforward_protocol_agrees_on_every_family(capsys):
    tool = load_script(
        osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_metrics.py'))
    assert tool.main(['--num-maps', '5', '--num-masks', '6', '--eval-size',
                      '32', '--batch-size', '2', '--map-kind', 'all',
                      '--repeat', '2', '--with-contours'])
    out = capsys.readouterr().out
    for kind in tool.MAP_KINDS:
        assert f'[boxes] 5 maps ({kind})' in out
    assert out.count('identical numbers and curves: True') == 3
    assert out.count('round 2:') == 3
    assert 'identical PxAP and histograms: True' in out
    assert 'load average' in out


def test_bad_repeat_is_an_error():
    tool = load_script(
        osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_metrics.py'))
    with pytest.raises(SystemExit, match='repeat'):
        tool.main(['--num-maps', '1', '--num-masks', '0', '--repeat', '0'])
