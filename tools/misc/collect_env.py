"""Print the environment (for bug reports and benchmark records):
``python tools/misc/collect_env.py``."""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from fcam_mm.utils.collect_env import collect_env  # noqa: E402


def main(argv=None):
    env = collect_env()
    for name, value in env.items():
        print(f'{name}: {value}')
    return env


if __name__ == '__main__':
    main()
