# Table D.1 row "+SR+CRF": pseudo-labels and the dense CRF loss.
_base_ = ['../tinyresnet_synthetic_stage2.py']
model = dict(size_loss=None)
