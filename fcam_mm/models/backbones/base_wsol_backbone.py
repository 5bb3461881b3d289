"""What the WSOL encoders share: a chain of stages whose outputs are the
skips of the F-CAM decoder (top map last), re-entry into the chain at any
stage (gradient CAMs on an intermediate layer), and ImageNet initialisation
by key name from a torchvision checkpoint."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule, initialize
from mmengine.runner.checkpoint import CheckpointLoader


class BaseWSOLBackbone(BaseModule):
    """A backbone made of ``num_stages`` stages applied one after the other;
    ``forward`` returns the outputs of the stages listed in ``out_indices``
    (ascending, so the top map comes last).

    Subclasses implement :meth:`forward_stage` and may override
    :meth:`convert_pretrained` (key mapping of a torchvision checkpoint) and
    :attr:`default_init_cfg` (random initialisation of every layer, applied
    before any pretrained weights so that layers the checkpoint lacks, e.g.
    VGG16's ``conv6``, get the paper's initialisation).

    Initialisation (``init_cfg``): ``None`` or any mmengine initialiser config
    (applied after ``default_init_cfg``); ``dict(type='Pretrained',
    checkpoint='torchvision://resnet50')`` (or a local path / URL, optionally
    ``prefix='backbone.'`` to take one sub-module of a full model checkpoint)
    loads matching weights by key name through :meth:`load_pretrained`, which
    reports the keys it leaves out and refuses a checkpoint that matches
    nothing or matches with the wrong shapes.

    Args:
        out_indices (Sequence[int]): stages whose outputs are returned,
            strictly increasing; negative indices count from the end.
        init_cfg (dict | list[dict], optional): see above.
    """

    #: Number of stages; set by subclasses.
    num_stages: int = 0
    #: Output channels of every stage; set by subclasses.
    stage_channels: Tuple[int, ...] = ()
    #: Initialisers applied to every layer before ``init_cfg``.
    default_init_cfg: List[dict] = [
        dict(type='Kaiming', layer='Conv2d', mode='fan_out',
             nonlinearity='relu'),
        dict(type='Constant', layer='_BatchNorm', val=1.0, bias=0.0),
    ]

    def __init__(self, out_indices: Optional[Sequence[int]] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if out_indices is None:
            out_indices = range(self.num_stages)
        indices = []
        for i in out_indices:
            if not -self.num_stages <= i < self.num_stages:
                raise ValueError(
                    f'{type(self).__name__}: out_indices entry {i} is not a '
                    f'stage (there are {self.num_stages})')
            indices.append(i % self.num_stages)
        if not indices or any(b <= a for a, b in zip(indices, indices[1:])):
            raise ValueError(
                f'{type(self).__name__}: out_indices must be non-empty and '
                f'strictly increasing, got {tuple(out_indices)}')
        self.out_indices = tuple(indices)
        self.out_channels = tuple(self.stage_channels[i] for i in indices)

    # -- forward ------------------------------------------------------------
    def forward_stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Apply stage ``index`` to the previous stage's output."""
        raise NotImplementedError

    def _run(self, x: torch.Tensor, first_stage: int) -> List[torch.Tensor]:
        outs = []
        last = self.out_indices[-1]
        for stage in range(first_stage, last + 1):
            x = self.forward_stage(stage, x)
            if stage in self.out_indices:
                outs.append(x)
        return outs

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(self._run(x, 0))

    def forward_from(self, feat: torch.Tensor,
                     index: int) -> Tuple[torch.Tensor, ...]:
        """Re-enter the network at an output.

        ``feat`` stands for ``forward(x)[index]``; returns what
        ``forward(x)[index + 1:]`` would be, computed from ``feat``. Gradient
        CAM methods use it to differentiate the class score with respect to
        an intermediate output without running the stages before it again.
        """
        num = len(self.out_indices)
        if not -num <= index < num:
            raise IndexError(f'output index {index} out of range for '
                             f'{num} outputs')
        stage = self.out_indices[index % num]
        return tuple(self._run(feat, stage + 1))

    # -- initialisation -----------------------------------------------------
    def convert_pretrained(self, state_dict: Dict[str, torch.Tensor]
                           ) -> Dict[str, torch.Tensor]:
        """Map a torchvision checkpoint's keys onto this module's; by default
        keys are kept as they are (module names follow torchvision's)."""
        return state_dict

    def init_weights(self) -> None:
        """Random initialisation of every layer (``default_init_cfg`` then
        the non-pretrained entries of ``init_cfg``), then the pretrained
        weights, if any, on top."""
        if self._is_init:
            print_log(f'init_weights of {type(self).__name__} has been '
                      'called more than once.', logger='current')
            return
        cfgs = self.init_cfg or []
        if isinstance(cfgs, dict):
            cfgs = [cfgs]
        pretrained = [c for c in cfgs if c.get('type') == 'Pretrained']
        others = [c for c in cfgs if c.get('type') != 'Pretrained']
        initialize(self, copy.deepcopy(self.default_init_cfg) + others)
        for cfg in pretrained:
            self.load_pretrained(
                cfg['checkpoint'], prefix=cfg.get('prefix'),
                map_location=cfg.get('map_location', 'cpu'))
        self._is_init = True

    def load_pretrained(self, checkpoint: str, prefix: Optional[str] = None,
                        map_location='cpu') -> Dict[str, List[str]]:
        """Load ``checkpoint`` (``torchvision://NAME``, URL or path) by key
        name after :meth:`convert_pretrained`.

        Keys of this module absent from the checkpoint keep their random
        initialisation; checkpoint keys with no counterpart here are
        dropped. Both lists are logged and returned. Raises if no key
        matches or if a matching key has a different shape.
        """
        loaded = CheckpointLoader.load_checkpoint(
            checkpoint, map_location=map_location, logger='current')
        state = loaded
        for key in ('state_dict', 'model'):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
                break
        if not isinstance(state, dict):
            raise TypeError(f'{checkpoint} holds no state dict')
        state = {k[7:] if k.startswith('module.') else k: v
                 for k, v in state.items()}
        if prefix:
            prefix = prefix if prefix.endswith('.') else prefix + '.'
            state = {k[len(prefix):]: v for k, v in state.items()
                     if k.startswith(prefix)}
        num_keys = len(state)
        state = self.convert_pretrained(dict(state))
        dropped = num_keys - len(state)
        own = self.state_dict()
        matched = [k for k in state if k in own]
        if not matched:
            raise KeyError(
                f'{type(self).__name__}: no key of {checkpoint} matches this '
                f'backbone (e.g. {sorted(state)[:3]} vs {sorted(own)[:3]})')
        wrong = [f'{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}'
                 for k in matched if state[k].shape != own[k].shape]
        if wrong:
            raise ValueError(f'{type(self).__name__}: shape mismatch loading '
                             f'{checkpoint}: ' + '; '.join(wrong[:5]))
        missing = sorted(k for k in own if k not in state)
        unexpected = sorted(k for k in state if k not in own)
        self.load_state_dict({k: state[k] for k in matched}, strict=False)
        print_log(
            f'{type(self).__name__}: loaded {len(matched)} tensors from '
            f'{checkpoint}; {len(missing)} keep their random initialisation '
            f'({_summarise(missing)}); {dropped} checkpoint tensors dropped '
            'by convert_pretrained; '
            f'{len(unexpected)} more unused ({_summarise(unexpected)})',
            logger='current')
        return dict(missing=missing, unexpected=unexpected)


def _summarise(keys: Sequence[str]) -> str:
    """Module names of ``keys`` (``a.b.weight`` → ``a.b``), deduplicated."""
    names = []
    for key in keys:
        name = key.rsplit('.', 1)[0]
        if name not in names:
            names.append(name)
    return ', '.join(names) if names else 'none'
