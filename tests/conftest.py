import pytest

from fcam_mm.utils import register_all_modules


@pytest.fixture(scope='session', autouse=True)
def _register_modules():
    register_all_modules()
