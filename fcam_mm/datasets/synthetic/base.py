"""What every preset of the synthetic generator shares.

* the splits and the per-image random generator (:func:`image_rng`), which
  make images independent of generation order;
* :class:`KnobsBase`, validation helpers for a preset's frozen knobs
  dataclass;
* :class:`Preset`, the record a preset module fills in and
  :mod:`.presets` registers;
* :func:`distribution`, the quantiles the dataset summary reports.

Nothing here draws pixels; the modules above this one do.
"""
import re
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Callable, List, Optional

import numpy as np

__all__ = [
    'SPLITS', 'SPLIT_IDS', 'image_rng', 'KnobsBase', 'Preset', 'distribution'
]

SPLITS = ('train', 'val', 'test')
SPLIT_IDS = {'train': 0, 'val': 1, 'test': 2}


def image_rng(seed, split, index) -> np.random.Generator:
    """The generator of image ``index`` of ``split``: seeded from
    ``SeedSequence(seed, spawn_key=(split_id, index))``, so an image does
    not depend on which images were drawn before it."""
    if split not in SPLIT_IDS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    sequence = np.random.SeedSequence(int(seed),
                                      spawn_key=(SPLIT_IDS[split], int(index)))
    return np.random.default_rng(sequence)


class KnobsBase:
    """Validation helpers for a preset's knobs, a frozen dataclass.

    A subclass calls :meth:`_tuples_from_lists` first in its
    ``__post_init__`` (knobs read from JSON or the command line arrive as
    lists), then the checks for its fields. The checks raise ``ValueError``
    with the field's name, its allowed range and the value received.
    """

    def _tuples_from_lists(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))

    def _check_range(self, name, kind, low, high):
        """``name`` is a pair ``(a, b)`` with ``low <= a <= b <= high``;
        stored converted to ``kind`` (int or float)."""
        value = getattr(self, name)
        if (not isinstance(value, tuple) or len(value) != 2
                or not all(isinstance(v, (int, float)) and
                           not isinstance(v, bool) for v in value)):
            raise ValueError(f'{name} must be a pair (low, high) of numbers, '
                             f'got {value!r}')
        if kind is int and not all(float(v).is_integer() for v in value):
            raise ValueError(f'{name} must hold integers, got {value!r}')
        if not low <= value[0] <= value[1] <= high:
            raise ValueError(f'{name} must satisfy {low} <= low <= high <= '
                             f'{high}, got {value!r}')
        object.__setattr__(self, name, tuple(kind(v) for v in value))

    def _check_scalar(self, name, low, high):
        """``name`` is a number (not a bool) in ``[low, high]``."""
        value = getattr(self, name)
        if (not isinstance(value, (int, float)) or isinstance(value, bool)
                or not low <= value <= high):
            raise ValueError(f'{name} must be a number in [{low}, {high}], '
                             f'got {value!r}')

    def _check_int(self, name, low, high):
        """``name`` is an int (not a bool) in ``[low, high]``."""
        value = getattr(self, name)
        if (not isinstance(value, (int, np.integer))
                or isinstance(value, bool) or not low <= value <= high):
            raise ValueError(f'{name} must be an int in [{low}, {high}], '
                             f'got {value!r}')


def distribution(values) -> dict:
    """min, p05, p25, median, p75, p95, max and mean of ``values`` (bools
    count as 0/1, so the mean of a flag is a fraction), rounded to 4
    decimals."""
    values = np.asarray(values, np.float64)
    quantiles = np.quantile(values, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])
    return dict(zip(('min', 'p05', 'p25', 'median', 'p75', 'p95', 'max'),
                    (round(float(q), 4) for q in quantiles)),
                mean=round(float(values.mean()), 4))


_NAME = re.compile(r'[a-z][a-z0-9_]*\Z')


@dataclass(frozen=True)
class Preset:
    """One kind of synthetic dataset, as the writer and the CLI see it.

    Args:
        name: registry key, ``--preset NAME`` on the command line
            (lower case, digits, underscores).
        version: the preset's generator version, written to README.txt;
            bump it whenever the same arguments would give other pixels.
        knobs: the knobs class, a frozen dataclass whose defaults are the
            preset's defaults and whose ``__post_init__`` validates
            (raising ``ValueError``); its field names are the knobs
            ``generate_synthetic_dataset(..., **knobs)`` accepts.
        render_sample: ``render_sample(seed, split, index, label, knobs)
            -> dict`` with ``image`` (H×W×3 uint8 RGB), ``object_mask``,
            ``part_mask``, ``ignore_mask`` (H×W bool), ``box`` (x0, y0, x1,
            y1 inclusive ints, tight around ``object_mask``), ``label`` and
            ``stats`` (a flat dict; its numeric values, bools included,
            are summarised over the dataset). It must draw image
            ``index`` from :func:`image_rng` ``(seed, split, index)`` alone
            so that subsets are stable.
        class_names: ``class_names(num_classes, knobs) -> list of str``,
            one name per label; raises ``ValueError`` when ``num_classes``
            is out of range for these knobs.
        max_classes: ``max_classes(knobs) -> int``, the largest
            ``num_classes`` these knobs allow.
        description: one line for the CLI help and the docs.
        default_num_classes: the number of classes generated when none is
            asked for.
        summarize: optional ``summarize(list of stats dicts) -> dict`` of
            preset-specific summary entries, added to the generic ones.
    """
    name: str
    version: str
    knobs: type
    render_sample: Callable[..., dict]
    class_names: Callable[[int, Any], List[str]]
    max_classes: Callable[[Any], int]
    description: str = ''
    summarize: Optional[Callable[[List[dict]], dict]] = None
    default_num_classes: int = 10

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError('a preset name is lower case letters, digits '
                             f'and underscores, got {self.name!r}')
        if not isinstance(self.version, str) or not self.version:
            raise ValueError(f'preset {self.name!r}: version must be a '
                             f'non-empty str, got {self.version!r}')
        if not (isinstance(self.knobs, type) and is_dataclass(self.knobs)
                and self.knobs.__dataclass_params__.frozen):
            raise TypeError(f'preset {self.name!r}: knobs must be a frozen '
                            f'dataclass, got {self.knobs!r}')
        for attribute in ('render_sample', 'class_names', 'max_classes'):
            if not callable(getattr(self, attribute)):
                raise TypeError(f'preset {self.name!r}: {attribute} must be '
                                'callable')
        if self.summarize is not None and not callable(self.summarize):
            raise TypeError(f'preset {self.name!r}: summarize must be '
                            'callable or None')

    def knob_names(self) -> List[str]:
        """The knobs of this preset, in declaration order."""
        return [f.name for f in fields(self.knobs)]
