# F-CAM on OpenImages30k with VGG16 and XGrad-CAM: the CAM method
# selects the stage-1 classifier and makes the stage-2 pseudo-labels.
_base_ = ['./vgg16_openimages.py']
model = dict(cam=dict(type='XGradCAM'))
