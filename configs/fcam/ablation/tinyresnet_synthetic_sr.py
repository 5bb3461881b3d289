# Table D.1 row "+SR": pseudo-labels sampled from the CAM only.
_base_ = ['../tinyresnet_synthetic_stage2.py']
model = dict(crf_loss=None, size_loss=None)
