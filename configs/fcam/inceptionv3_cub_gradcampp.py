# F-CAM on CUB-200-2011 with InceptionV3 and Grad-CAM++: the CAM method
# selects the stage-1 classifier and makes the stage-2 pseudo-labels.
_base_ = ['./inceptionv3_cub.py']
model = dict(cam=dict(type='GradCAMPlusPlus'))
