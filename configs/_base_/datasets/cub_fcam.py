# CUB-200-2011 for F-CAM (cub.py): the classifier's CAM and the F-CAM map
# evaluated side by side on the same images, by boxes.
_base_ = ['./cub.py']

val_evaluator = [
    dict(type='BoxLocalizationMetric', map_key='cam', prefix='cam'),
    dict(type='BoxLocalizationMetric', map_key='fcam', prefix='fcam'),
    dict(type='ClassificationMetric', prefix='cls'),
]
test_evaluator = val_evaluator
