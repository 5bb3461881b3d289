# Stage 1 on the synthetic data with InceptionV3, evaluated with LayerCAM.
_base_ = ['./cam_inceptionv3_synthetic.py']
model = dict(cam=dict(type='LayerCAM'))
