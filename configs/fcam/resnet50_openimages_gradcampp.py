# F-CAM on OpenImages30k with ResNet50 and Grad-CAM++: the CAM method
# selects the stage-1 classifier and makes the stage-2 pseudo-labels.
_base_ = ['./resnet50_openimages.py']
model = dict(cam=dict(type='GradCAMPlusPlus'))
