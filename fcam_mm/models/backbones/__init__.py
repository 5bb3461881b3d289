from .tiny_resnet import TinyResNet

__all__ = ['TinyResNet']
