# Table D.1 row "+SR+CRF+ASC": the full pixel-alignment loss.
_base_ = ['../tinyresnet_synthetic_stage2.py']
