# F-CAM on the synthetic data with LayerCAM guiding the decoder.
_base_ = ['./tinyresnet_synthetic.py']
model = dict(cam=dict(type='LayerCAM'))
