"""Where mmengine's ``CheckpointHook`` keeps the best checkpoint of a metric.

``CheckpointHook(save_best=...)`` records, in the runner's message hub, the
path of the best checkpoint and its score — under ``best_ckpt`` /
``best_score`` when it tracks one metric, under ``best_ckpt_<key>`` /
``best_score_<key>`` when it tracks several. Reading those (rather than
globbing ``best_*.pth`` in the work dir) gives this run's file even when an
earlier run left other ``best_*`` files behind.
"""
from typing import Optional, Tuple

from mmengine.hooks import CheckpointHook


def checkpoint_hook(runner) -> CheckpointHook:
    hooks = [h for h in runner.hooks if isinstance(h, CheckpointHook)]
    if not hooks:
        raise RuntimeError('the runner has no CheckpointHook '
                           '(default_hooks.checkpoint)')
    return hooks[0]


def best_info_keys(runner, key: str) -> Tuple[str, str, str]:
    """``(checkpoint info key, score info key, rule)`` of metric ``key``.

    Raises ``KeyError`` naming the tracked metrics when ``key`` is not one
    of ``default_hooks.checkpoint.save_best``.
    """
    hook = checkpoint_hook(runner)
    indicators = list(getattr(hook, 'key_indicators', []) or [])
    if key not in indicators:
        raise KeyError(f'metric {key!r} is not tracked by '
                       f'default_hooks.checkpoint.save_best (tracked: '
                       f'{indicators or "none"})')
    rule = hook.rules[indicators.index(key)] if hook.rules else 'greater'
    if len(indicators) == 1:
        return 'best_ckpt', 'best_score', rule
    return f'best_ckpt_{key}', f'best_score_{key}', rule


def best_checkpoint(runner, key: str, required: bool = False
                    ) -> Optional[str]:
    """Path of this run's best checkpoint by ``key``; ``None`` (or, with
    ``required``, an error) when no validation has saved one yet."""
    ckpt_key, _, _ = best_info_keys(runner, key)
    path = runner.message_hub.get_info(ckpt_key)
    if path is None and required:
        raise RuntimeError(f'no best {key} checkpoint in {runner.work_dir}: '
                           'did the validation run?')
    return path


def reset_best_score(runner, key: str) -> None:
    """Forget the best score of ``key`` so the next validation starts a new
    comparison (the checkpoint hook's initial value for its rule)."""
    _, score_key, rule = best_info_keys(runner, key)
    runner.message_hub.update_info(score_key,
                                   CheckpointHook.init_value_map[rule])
