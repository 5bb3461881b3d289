# F-CAM on OpenImages30k with InceptionV3 and XGrad-CAM: the CAM method
# selects the stage-1 classifier and makes the stage-2 pseudo-labels.
_base_ = ['./inceptionv3_openimages.py']
model = dict(cam=dict(type='XGradCAM'))
