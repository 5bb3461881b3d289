"""Registering fcam_mm's modules and making the default scope ``fcam_mm``."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every fcam_mm module that registers components, and (by
    default) set ``fcam_mm`` as mmengine's default scope so that
    ``type='...'`` in configs resolves here first.

    Args:
        init_default_scope (bool): create (or switch to) the ``fcam_mm``
            default scope.
    """
    import fcam_mm.datasets  # noqa: F401,F403
    import fcam_mm.engine  # noqa: F401,F403
    import fcam_mm.evaluation  # noqa: F401,F403
    import fcam_mm.models  # noqa: F401,F403
    import fcam_mm.visualization  # noqa: F401,F403
    from .checkpoint import enable_safe_checkpoint_loading
    from .checkpoint_saving import enable_atomic_checkpoint_saving
    enable_safe_checkpoint_loading()
    enable_atomic_checkpoint_saving()

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('fcam_mm'):
        DefaultScope.get_instance('fcam_mm', scope_name='fcam_mm')
    elif current.scope_name != 'fcam_mm':
        warnings.warn(f'The current default scope "{current.scope_name}" '
                      'is not "fcam_mm"; register_all_modules will force it '
                      'to "fcam_mm".')
        new_name = f'fcam_mm-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_name, scope_name='fcam_mm')
