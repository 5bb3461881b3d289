from .wsol_localizer import WSOLLocalizer

__all__ = ['WSOLLocalizer']
