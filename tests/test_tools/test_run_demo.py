"""tools/run_demo.py decides whether data/synthetic holds the benchmark its
config is made for, and regenerates it otherwise (e.g. the parts_hard data
an earlier release left there)."""
from fcam_mm.datasets.synthetic import generate_synthetic_dataset
from .tool_helpers import load_tool

BENCHMARK_SIZES = 'images per class: train=80, val=10, test=30'


def write_small(root, **kwargs):
    generate_synthetic_dataset(
        str(root), seed=0, per_class=dict(train=1, val=1, test=1), **kwargs)
    return root


def test_missing_readme_is_stale(tmp_path):
    demo = load_tool('run_demo.py')
    reason = demo.stale_data_reason(str(tmp_path / 'nothing'))
    assert reason.endswith('nothing/README.txt is missing')


def test_only_the_default_benchmark_is_accepted(tmp_path):
    demo = load_tool('run_demo.py')
    root = write_small(tmp_path / 'cub')  # cub_like, seed 0, 12 classes
    readme = root / 'README.txt'
    # everything matches but the split sizes
    reason = demo.stale_data_reason(str(root))
    assert reason == (f'{readme} is not the benchmark\'s: it lacks '
                      f'{BENCHMARK_SIZES!r}')
    # with the benchmark's sizes written in, the header is the benchmark's
    text = readme.read_text().replace(
        'images per class: train=1, val=1, test=1', BENCHMARK_SIZES)
    readme.write_text(text)
    assert demo.stale_data_reason(str(root)) is None
    # another seed is another dataset
    readme.write_text(text.replace('\nseed: 0\n', '\nseed: 1\n'))
    assert demo.stale_data_reason(str(root)).endswith("lacks 'seed: 0'")


def test_the_parts_hard_data_of_an_earlier_release_is_stale(tmp_path):
    demo = load_tool('run_demo.py')
    root = write_small(tmp_path / 'parts', preset='parts_hard',
                       num_classes=10)
    reason = demo.stale_data_reason(str(root))
    assert "'preset: cub_like'" in reason and "'num_classes: 12'" in reason
