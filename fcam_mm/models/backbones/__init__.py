from .base_wsol_backbone import BaseWSOLBackbone
from .inception_v3_wsol import InceptionV3WSOL
from .resnet50_wsol import ResNet50WSOL
from .tiny_resnet import TinyResNet
from .vgg16_wsol import VGG16WSOL

__all__ = [
    'BaseWSOLBackbone', 'ResNet50WSOL', 'VGG16WSOL', 'InceptionV3WSOL',
    'TinyResNet'
]
