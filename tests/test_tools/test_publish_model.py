"""tools/model_converters/publish_model.py: a zoo-ready checkpoint."""
import hashlib
import os.path as osp

import torch

from fcam_mm.utils import safe_torch_load
from .tool_helpers import load_tool


def test_publish_keeps_weights_and_names_the_hash(tmp_path):
    state = {'backbone.w': torch.arange(6.).view(2, 3)}
    source = str(tmp_path / 'epoch_3.pth')
    torch.save(dict(state_dict=state, optimizer={'state': {0: {'m': 1}}},
                    meta=dict(epoch=3, dataset_meta=dict(classes=('a', )),
                              hook_msgs={'x': 1})), source)
    final = load_tool('model_converters/publish_model.py').main(
        [source, str(tmp_path / 'model')])
    name = osp.basename(final)
    assert name.startswith('model-') and name.endswith('.pth')
    with open(final, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest().startswith(name[6:14])
    published = safe_torch_load(final)
    assert set(published) == {'state_dict', 'meta'}
    assert published['meta'] == dict(epoch=3,
                                     dataset_meta=dict(classes=('a', )))
    assert torch.equal(published['state_dict']['backbone.w'],
                       state['backbone.w'])
    assert not osp.exists(str(tmp_path / 'model.tmp.pth'))
