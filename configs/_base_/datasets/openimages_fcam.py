# OpenImages30k for F-CAM (openimages.py): the classifier's CAM and the
# F-CAM map evaluated side by side on the same images; masks, not boxes:
# PxAP.
_base_ = ['./openimages.py']

val_evaluator = [
    dict(type='PixelLocalizationMetric', map_key='cam', prefix='cam'),
    dict(type='PixelLocalizationMetric', map_key='fcam', prefix='fcam'),
    dict(type='ClassificationMetric', prefix='cls'),
]
test_evaluator = val_evaluator
