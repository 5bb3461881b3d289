"""The registry of synthetic dataset presets.

A preset is one module that builds a :class:`~.base.Preset` (its name,
version, frozen knobs dataclass, ``render_sample``, ``class_names``,
``max_classes``) and is registered here by one line, e.g.::

    from . import cub_like
    register_preset(cub_like.PRESET)
register_preset(objects.PRESET)

The writer, the summary, the preview and the CLI only go through this
registry, so they work for every registered preset.
"""
from dataclasses import fields
from typing import Dict, List

from . import cub_like, objects, parts_hard
from .base import Preset

__all__ = [
    'PRESETS', 'DEFAULT_PRESET', 'register_preset', 'get_preset',
    'preset_names', 'make_knobs', 'render_preset_sample'
]

#: name -> Preset, in registration order.
PRESETS: Dict[str, Preset] = {}

#: What ``generate_synthetic_dataset`` and make_synthetic.py use when no
#: preset is named.
DEFAULT_PRESET = 'cub_like'


def register_preset(preset: Preset) -> Preset:
    """Add ``preset`` to the registry; a second preset of the same name is
    an error (a silent replacement would change what a name generates)."""
    if not isinstance(preset, Preset):
        raise TypeError(f'expected a Preset, got {preset!r}')
    if preset.name in PRESETS:
        raise ValueError(f'a preset named {preset.name!r} is already '
                         'registered')
    PRESETS[preset.name] = preset
    return preset


def preset_names() -> List[str]:
    """Names of the registered presets, in registration order."""
    return list(PRESETS)


def get_preset(name: str) -> Preset:
    """The preset registered as ``name``; ``ValueError`` naming the
    registered presets otherwise."""
    if isinstance(name, str) and name in PRESETS:
        return PRESETS[name]
    raise ValueError(f'unknown preset {name!r}; presets are '
                     f'{preset_names()}')


def make_knobs(preset: Preset, knobs=None):
    """``preset``'s knobs from None (its defaults), a dict of knob values,
    or an instance of its knobs class (returned as is). An unknown knob
    raises ``TypeError`` naming the preset's knobs; a knobs object of
    another preset raises ``TypeError`` too."""
    if knobs is None:
        return preset.knobs()
    if isinstance(knobs, preset.knobs):
        return knobs
    if isinstance(knobs, dict):
        unknown = set(knobs) - {f.name for f in fields(preset.knobs)}
        if unknown:
            raise TypeError(f'unknown knob(s) {sorted(unknown)} for preset '
                            f'{preset.name!r}; its knobs are '
                            f'{preset.knob_names()}')
        return preset.knobs(**knobs)
    raise TypeError(f'knobs of preset {preset.name!r} must be None, a dict '
                    f'or a {preset.knobs.__name__}, got '
                    f'{type(knobs).__name__}')


def render_preset_sample(preset: str, seed: int, split: str, index: int,
                         label: int, knobs=None) -> dict:
    """Render image ``index`` of ``split`` with class ``label`` by the
    preset named ``preset``; ``knobs`` as in :func:`make_knobs`. Returns
    the preset's ``render_sample`` dict (image RGB uint8, object/part/
    ignore masks, box, label, stats)."""
    chosen = get_preset(preset)
    return chosen.render_sample(seed, split, index, label,
                                make_knobs(chosen, knobs))


register_preset(parts_hard.PRESET)
register_preset(cub_like.PRESET)
register_preset(objects.PRESET)
