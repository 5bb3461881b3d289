# Runtime of the FSL baseline (docs/fsl_baseline.md): default_runtime.py for
# an iteration-based run without a validation loop. The checkpoint of the
# last iteration is the model (save_last); the segmenter's map is 'fcam'.
_base_ = ['./default_runtime.py']

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=500, max_keep_ckpts=2,
                    save_best=None),
    visualization=dict(map_keys=('fcam', )),
)
log_processor = dict(by_epoch=False)
