"""The embedded synthetic WSOL datasets: deterministic generators.

A generator writes a small dataset in the wsolevaluation metadata format
(boxes AND masks) that is hard in the ways real weakly-supervised
localization is hard, so that a CAM or F-CAM result on it means something,
yet small enough to be generated in seconds and trained on a CPU. Only
numpy and cv2 are used.

What the images look like is a *preset*; ``parts_hard`` (the default) is
the first design, a class-neutral body with a small discriminative part.
Modules, each importing only the ones listed before it:

``base``
    splits, the per-image random generator, knob validation helpers, the
    :class:`Preset` record, the summary's quantiles.
``shapes``
    polygons, binary and anti-aliased rasterisation, dilation, the layout
    of a body with an attached part, placement away from the object.
``colours``
    colour distributions, compositing, the local-contrast colour choice.
``textures``
    smooth noise, stripes, object textures, cluttered backgrounds.
``parts_hard``
    the ``parts_hard`` preset: its knobs (:class:`SyntheticKnobs`), class
    names and ``render_sample``.
``presets``
    the registry (``register_preset``, ``get_preset``,
    ``render_preset_sample``).
``writer``
    :func:`generate_synthetic_dataset`: the files, README.txt, summary.
``preview``
    :func:`make_preview`, a mosaic read back from a written dataset.

Names kept from the single-module generator (``render_sample``,
``class_names``, ``SyntheticKnobs``, ``MAX_CLASSES``,
``GENERATOR_VERSION``, ...) are those of ``parts_hard``. See
``docs/synthetic_dataset.md``.
"""
from .base import SPLIT_IDS, SPLITS, KnobsBase, Preset, image_rng
from .parts_hard import (CLASS_HUE_PAIRS, GENERATOR_VERSION,
                         MAX_BODY_FAMILIES, MAX_CLASSES, PART_HUES,
                         SyntheticKnobs, body_family_hue_range, class_names,
                         render_sample)
from .presets import (DEFAULT_PRESET, PRESETS, get_preset, make_knobs,
                      preset_names, register_preset, render_preset_sample)
from .preview import make_preview
from .writer import (DEFAULT_PER_CLASS, cli_command,
                     generate_synthetic_dataset)

__all__ = [
    'GENERATOR_VERSION', 'MAX_CLASSES', 'SPLITS', 'SyntheticKnobs',
    'class_names', 'body_family_hue_range', 'render_sample',
    'generate_synthetic_dataset', 'make_preview', 'DEFAULT_PRESET',
    'PRESETS', 'Preset', 'KnobsBase', 'register_preset', 'get_preset',
    'preset_names', 'make_knobs', 'render_preset_sample', 'cli_command',
    'image_rng', 'SPLIT_IDS', 'DEFAULT_PER_CLASS', 'PART_HUES',
    'CLASS_HUE_PAIRS', 'MAX_BODY_FAMILIES'
]
