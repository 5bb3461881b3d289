"""Write small wsolevaluation-format trees by hand for the dataset tests."""
import os
import os.path as osp

import cv2
import numpy as np


def write_lines(path, lines):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(line + '\n' for line in lines))


def write_image(path, height, width, seed=0):
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    cv2.imwrite(path, rng.integers(0, 256, (height, width, 3), np.uint8))


def write_mask(path, height, width, box, value=255):
    """A mask PNG with ``box`` (x0, y0, x1, y1 inclusive) set."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    mask = np.zeros((height, width), np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1 + 1, x0:x1 + 1] = value
    cv2.imwrite(path, mask)
    return mask


# image id -> (label, width, height, boxes)
IMAGES = {
    'a/img0.png': (0, 40, 30, [(2, 3, 10, 12)]),
    'a/img1.png': (2, 32, 32, [(0, 0, 31, 31), (5, 5, 8, 9)]),
    'b/img2.png': (1, 20, 50, [(4, 10, 19, 49)]),
}


def make_box_and_mask_tree(root):
    """Both metadata flavours over the same three images."""
    split = osp.join(root, 'metadata', 'test')
    ids, labels, sizes, boxes, masks = [], [], [], [], []
    for i, (image_id, (label, w, h, bxs)) in enumerate(IMAGES.items()):
        write_image(osp.join(root, 'images', image_id), h, w, seed=i)
        ids.append(image_id)
        labels.append(f'{image_id},{label}')
        sizes.append(f'{image_id},{w},{h}')
        for j, box in enumerate(bxs):
            boxes.append(f'{image_id},' + ','.join(map(str, box)))
            mask_id = f'{image_id[:-4]}_m{j}.png'
            write_mask(osp.join(root, 'masks', mask_id), h, w, box)
            ignore = ''
            if j == 0:
                ignore = f'{image_id[:-4]}_ignore.png'
                # The ignore region overlaps the first box's top-left pixel
                # (object wins) and the pixel right of the box.
                x0, y0, x1, y1 = box
                write_mask(osp.join(root, 'masks', ignore), h, w,
                           (x0, y0, min(x1 + 1, w - 1), y0))
            # wsolevaluation form: always three fields, the third empty on
            # an image's later lines.
            masks.append(f'{image_id},{mask_id},{ignore}')
    write_lines(osp.join(split, 'image_ids.txt'), ids)
    write_lines(osp.join(split, 'class_labels.txt'), labels)
    write_lines(osp.join(split, 'image_sizes.txt'), sizes)
    write_lines(osp.join(split, 'localization.txt'), boxes)
    write_lines(osp.join(split, 'localization_mask.txt'), masks)
    write_lines(
        osp.join(root, 'metadata', 'class_names.txt'), ['cat', 'dog', 'owl'])
    return split
