"""Writing dataset files: metadata lines and images, failing loudly (the
converters and the synthetic generator share these)."""
import os
import os.path as osp

import cv2


def write_lines(path, lines):
    """``lines`` to ``path`` (folders created), one per line, UTF-8, ``\\n``
    line ends on every platform."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(''.join(line + '\n' for line in lines))


def imwrite(path, array, params=()):
    """cv2.imwrite that raises instead of returning False."""
    if not cv2.imwrite(path, array, list(params)):
        raise OSError(f'cv2.imwrite could not write {path}')
