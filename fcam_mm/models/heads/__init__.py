from .gap_cls_head import GAPClsHead

__all__ = ['GAPClsHead']
