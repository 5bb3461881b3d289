# Table D.1 row "+SR+ASC": pseudo-labels and the absolute size constraint.
_base_ = ['../tinyresnet_synthetic_stage2.py']
model = dict(crf_loss=None)
