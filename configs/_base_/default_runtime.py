# Runtime shared by every fcam_mm config.
default_scope = 'fcam_mm'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Model selection is by localization on the validation split (Choe et
    # al. 2020), never by the test split: keep the best-MaxBoxAcc epoch.
    # SafeCheckpointHook: atomic writes, old checkpoints removed only after
    # the new one is complete, free space checked (docs/reliability.md).
    checkpoint=dict(
        type='SafeCheckpointHook',
        interval=1,
        max_keep_ckpts=2,
        save_best='cam/MaxBoxAcc',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Generator states in every checkpoint: --resume continues the streams.
    rng_state=dict(type='RNGStateHook'),
    # Stops at the first NaN/inf loss, naming the epoch, iteration and
    # terms. A default hook, so the leaves' custom_hooks lists keep it.
    check_invalid_loss=dict(type='CheckInvalidLossHook'),
    # Counts the broken files that skip_bad_samples=True replaced, per epoch
    # (docs/datasets.md, "Broken files met during training").
    bad_sample_report=dict(type='BadSampleReportHook'),
    # tools/test.py --show-dir turns it on; tau: the one the test metrics
    # select for each map (docs/visualization.md).
    visualization=dict(
        type='WSOLVisualizationHook', enable=False, map_keys=('cam', 'fcam'),
        threshold='best', style='auto'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo by itself on a machine without CUDA.
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='WSOLVisualizer', vis_backends=vis_backends)

log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
