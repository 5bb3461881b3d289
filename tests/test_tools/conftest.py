import pytest

from .tool_helpers import make_small_synthetic


@pytest.fixture(scope='session')
def data_root(tmp_path_factory):
    """3 classes, 6 train / 3 val / 3 test images per class."""
    return make_small_synthetic(str(tmp_path_factory.mktemp('synthetic')))
