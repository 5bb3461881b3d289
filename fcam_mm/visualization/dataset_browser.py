"""Dataset samples as the model sees them: the split's pipeline output with
its ground truth mapped into that frame (``tools/misc/browse_dataset.py``).

The GT of a WSOL sample stays in the original image frame
(``LoadWSOLAnnotations`` keeps it out of the geometric transforms, see
docs/datasets.md). To draw it on the transformed image, :func:`pipeline_view`
carries it through the pipeline itself: right after the loading steps it
puts the GT in ``gt_seg_map`` — the key that ``Resize`` (nearest),
``RandomFlip`` and ``RandomCrop`` move together with the image — as one
channel holding the merged mask (1 object, 255 ignore) and one bit per box
(the filled box) in further channels. After the last step before packing,
each box is the bounding box of its bit's pixels (absent when a crop cut
it away) and the mask is channel 0, so whatever the transforms did to the
image (resize, crop, flip) happened to the GT, to the pixel.
"""
import copy
import textwrap
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from fcam_mm.datasets.transforms.loading import IGNORE, LoadWSOLAnnotations
from .drawing import GT_COLOR, draw_boxes, line_width, outline_mask

#: Layout of :func:`compose_grid` (pixels): margin around and between the
#: cells, the split's title band above each row, the caption band (class
#: name, image id) under each image.
PAD = 4
HEADER_HEIGHT = 20
CAPTION_HEIGHT = 30
#: Cell size when no sample of the grid could be drawn.
PLACEHOLDER_SIZE = (128, 128)

MASK_OUTLINE_COLOR = (255, 255, 255)
BACKGROUND = 40
FONT = cv2.FONT_HERSHEY_SIMPLEX
#: Boxes per image the GT map can carry (cv2.resize takes <= 128 channels).
MAX_BOXES = 127 * 8


def _step_name(step) -> str:
    return type(step).__name__


def _is_loading(step) -> bool:
    return _step_name(step).startswith('Load')


def _is_packing(step) -> bool:
    return _step_name(step).startswith('Pack')


def pipeline_steps(dataset) -> List[str]:
    """Names of the steps of the dataset's pipeline."""
    return [_step_name(t) for t in dataset.pipeline.transforms]


def _ground_truth(info: dict, image: np.ndarray):
    """``(boxes (N, 4), mask or None)`` of a sample in its original frame,
    loaded as ``LoadWSOLAnnotations`` loads them (so its checks apply)."""
    item = copy.deepcopy(info)
    item['img'] = image
    item = LoadWSOLAnnotations(with_mask=True)(item)
    boxes = item.get('ori_gt_bboxes', np.zeros((0, 4), np.float32))
    return np.asarray(boxes).reshape(-1, 4), item.get('ori_gt_mask')


def encode_ground_truth(boxes, mask: Optional[np.ndarray], height: int,
                        width: int) -> np.ndarray:
    """The ``(H, W, C)`` uint8 map :func:`pipeline_view` carries: channel 0
    the mask (0 without one), then box ``k`` as bit ``k % 8`` of channel
    ``1 + k // 8`` over its inclusive pixels (clipped to the image)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)[:MAX_BOXES]
    channels = 1 + max(1, (len(boxes) + 7) // 8)
    carried = np.zeros((height, width, channels), np.uint8)
    if mask is not None:
        carried[..., 0] = mask
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        left, top = max(int(x0), 0), max(int(y0), 0)
        right, bottom = min(int(x1), width - 1), min(int(y1), height - 1)
        if left <= right and top <= bottom:
            carried[top:bottom + 1, left:right + 1, 1 + k // 8] |= \
                np.uint8(1 << (k % 8))
    return carried


def decode_ground_truth(carried: np.ndarray, num_boxes: int
                        ) -> Tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`encode_ground_truth` after the transforms:
    ``(boxes (M, 4) inclusive, mask)``; a box no pixel of which is left is
    dropped."""
    if carried.ndim == 2:
        carried = carried[..., None]
    boxes = []
    for k in range(min(num_boxes, MAX_BOXES)):
        plane = (carried[..., 1 + k // 8] >> (k % 8)) & 1
        ys, xs = np.nonzero(plane)
        if len(xs):
            boxes.append([xs.min(), ys.min(), xs.max(), ys.max()])
    return np.array(boxes, np.float32).reshape(-1, 4), carried[..., 0]


def pipeline_view(dataset, index: int) -> dict:
    """Sample ``index`` of ``dataset`` after its pipeline (up to, not
    including, the packing step), with its GT in that frame.

    Returns a dict: ``image`` (RGB uint8, None when the pipeline failed),
    ``boxes`` (inclusive, in the image's frame), ``mask`` (1 / 0 / 255, or
    None), ``label``, ``img_id``, ``note`` (why the GT is not drawn, or why
    there is no image; '' when all is well).
    """
    info = dataset.get_data_info(index)
    view = dict(image=None, boxes=np.zeros((0, 4), np.float32), mask=None,
                label=int(info['gt_label']),
                img_id=info.get('img_id') or info.get('img_path'), note='')
    gt_info = copy.deepcopy(info)
    results = info
    num_boxes, has_mask, carrying = 0, False, False
    steps = list(dataset.pipeline.transforms)
    try:
        for step in steps:
            if _is_packing(step):
                break
            if not carrying and not _is_loading(step):
                carrying, num_boxes, has_mask = _inject(results, gt_info,
                                                        view)
            results = step(results)
            if results is None:
                raise ValueError(f'{_step_name(step)} dropped the sample')
        if not carrying:  # nothing but loading steps
            carrying, num_boxes, has_mask = _inject(results, gt_info, view)
    except Exception as e:  # any step may fail on a broken file
        view['note'] = f'{type(e).__name__}: {e}'
        return view
    image = results['img']
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    view['image'] = np.ascontiguousarray(image[..., 2::-1])  # BGR -> RGB
    if carrying:
        boxes, mask = decode_ground_truth(results['gt_seg_map'], num_boxes)
        view['boxes'] = boxes
        view['mask'] = mask if has_mask else None
    return view


def _inject(results: dict, gt_info: dict, view: dict):
    """Put the encoded GT in ``results['gt_seg_map']``; ``(carrying,
    number of boxes, has mask)``. A GT that cannot be loaded is noted."""
    image = results['img']
    try:
        boxes, mask = _ground_truth(gt_info, image)
    except Exception as e:  # a size mismatch or an unreadable mask
        view['note'] = f'GT not drawn: {e}'
        return False, 0, False
    results['gt_seg_map'] = encode_ground_truth(boxes, mask,
                                                *image.shape[:2])
    return True, len(boxes), mask is not None


def draw_view(view: dict) -> Optional[np.ndarray]:
    """The view's image with its GT: ignore region greyed, mask outline
    white, boxes green. None when the view has no image."""
    image = view['image']
    if image is None:
        return None
    out = image.copy()
    height, width = out.shape[:2]
    mask = view.get('mask')
    if mask is not None:
        ignore = mask == IGNORE
        out[ignore] = out[ignore] // 2 + 64
        out = outline_mask(out, mask == 1, MASK_OUTLINE_COLOR)
    if len(view['boxes']):
        out = draw_boxes(out, view['boxes'], GT_COLOR,
                         max(1, line_width(height, width) // 2))
    return out


def _put_text(canvas: np.ndarray, text: str, x: int, y: int, width: int,
              color=(255, 255, 255), scale: float = 0.4):
    """One line of text with its baseline at ``y``, shrunk to ``width``."""
    (tw, _), _ = cv2.getTextSize(text, FONT, scale, 1)
    if tw > width and tw > 0:
        scale *= width / tw
    cv2.putText(canvas, text, (x, y), FONT, scale, color, 1, cv2.LINE_AA)


def _placeholder(height: int, width: int, note: str) -> np.ndarray:
    out = np.full((height, width, 3), 90, np.uint8)
    chars = max(8, width // 7)
    lines = textwrap.wrap(note or 'no image', chars)[:max(1, height // 13)]
    for k, line in enumerate(lines):
        _put_text(out, line, 3, 12 + 13 * k, width - 6, (255, 220, 220),
                  0.35)
    return out


def compose_grid(rows: Sequence[Tuple[str, Sequence[dict]]],
                 class_names: Sequence[Sequence[str]]) -> np.ndarray:
    """One RGB picture, a row per ``(title, views)``: the title band, then
    each view drawn by :func:`draw_view` in a cell as large as the largest
    image of the grid (images top-left, not rescaled), its class name and
    image id under it; a view without image shows why instead.

    Size: ``PAD + columns * (cell_w + PAD)`` wide and
    ``PAD + rows * (HEADER_HEIGHT + cell_h + CAPTION_HEIGHT + PAD)`` high.
    """
    drawn = [[draw_view(v) for v in views] for _, views in rows]
    shapes = [d.shape[:2] for row in drawn for d in row if d is not None]
    cell_h, cell_w = (tuple(np.max(shapes, axis=0)) if shapes else
                      PLACEHOLDER_SIZE)
    columns = max([len(views) for _, views in rows] + [1])
    width = PAD + columns * (cell_w + PAD)
    height = PAD + len(rows) * (HEADER_HEIGHT + cell_h + CAPTION_HEIGHT +
                                PAD)
    grid = np.full((height, width, 3), BACKGROUND, np.uint8)
    y = PAD
    for (title, views), images, names in zip(rows, drawn, class_names):
        _put_text(grid, title, PAD, y + HEADER_HEIGHT - 6, width - 2 * PAD)
        y += HEADER_HEIGHT
        for col, (view, image) in enumerate(zip(views, images)):
            x = PAD + col * (cell_w + PAD)
            note = view['note']
            if image is None:  # the note is written on the placeholder
                image, note = _placeholder(cell_h, cell_w, note), ''
            grid[y:y + image.shape[0], x:x + image.shape[1]] = image
            label = view['label']
            name = names[label] if 0 <= label < len(names) else '?'
            caption = name if name == str(label) else f'{label}: {name}'
            _put_text(grid, caption, x, y + cell_h + 12, cell_w)
            _put_text(grid, note or str(view['img_id']), x, y + cell_h + 25,
                      cell_w, (255, 160, 160) if note else (170, 170, 170),
                      0.35)
        y += cell_h + CAPTION_HEIGHT + PAD
    return grid
