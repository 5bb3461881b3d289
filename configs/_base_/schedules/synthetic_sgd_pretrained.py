# Stage-1 schedule for ImageNet-initialised backbones on the synthetic data:
# the synthetic warm-up and cosine, with the wsolevaluation recipe's lr
# (Choe et al.: 0.0017, 10x on the head; leaves add 10x on their last
# block) instead of the from-scratch TinyResNet's 0.05.
_base_ = ['./synthetic_sgd.py']
optim_wrapper = dict(
    optimizer=dict(lr=0.0017),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.0)}))
