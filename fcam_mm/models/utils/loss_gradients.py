"""Which F-CAM loss term moves the map where: each term's gradient on the
decoder's parameters and its push on the foreground, region by region.

F-CAM's stage 2 sees labels only on its seeds (``C⁺`` on the part the CAM
favours, ``C⁻`` in the background); everything else of the object must be
reached by generalisation, by the dense CRF or by the size constraint
(paper §3). Whether a term does that can be read off its gradient with
respect to the decoder's logits ``l = (l_bg, l_fg)``: every term depends on
the logits through the softmax only, so ``∂L/∂l_fg = −∂L/∂l_bg`` and

    push(p) = (∂L/∂l_bg(p) − ∂L/∂l_fg(p)) / 2

is the rate at which a gradient step raises pixel ``p``'s foreground
margin ``l_fg − l_bg`` (positive: towards foreground). Averaged over the
object pixels inside ``C⁺``, the object pixels outside it (what the map
must grow into) and the background, it tells which term carries the map
beyond its seeds, and which holds it back.
"""
from typing import Dict, List

import torch

from .sampling_regions import sample_pseudo_labels, sampling_regions
from .seed_quality import cam_batches

#: regions the pushes are averaged over
REGIONS = ('object_in_c_pos', 'object_outside_c_pos', 'background')


def loss_term_pushes(model, inputs: torch.Tensor, cams: torch.Tensor,
                     objects: torch.Tensor,
                     generator: torch.Generator = None,
                     step_lr: float = 0.01) -> Dict[str, Dict[str, float]]:
    """Per loss term of ``model`` (an ``FCAMLocalizer``) on one batch:

    - ``grad_norm``: the L2 norm of the term's gradient on the decoder's
      parameters;
    - ``push/{region}``: the sum over the region's pixels of ``push``
      (module docstring), and ``pixels/{region}`` their number, for the
      regions of :data:`REGIONS`;
    - ``step/{region}``: the sum over the region of the change of the
      foreground margin after one plain SGD step of ``step_lr`` on this
      term alone — the push carried through the shared parameters, i.e.
      how far the decoder generalises what the term teaches (the model is
      left unchanged).

    ``cams`` are the GT-class CAMs in the input frame (B, H, W) and
    ``objects`` the GT masks there (bool); seeds are drawn from ``cams``
    with the model's ``seed_cfg`` (and ``generator``) as in training.
    """
    seed_cfg = dict(model.seed_cfg)
    seeds = sample_pseudo_labels(cams, generator=generator, **seed_cfg)
    positive, _ = sampling_regions(
        cams, n_neg=seed_cfg.get('n_neg', 0.1),
        erode_kernel=seed_cfg.get('erode_kernel', 11))
    with torch.no_grad():
        feats = model.extract_feat(inputs)
    params = [p for p in model.decoder.parameters() if p.requires_grad]
    logits = model.decoder(feats, inputs.shape[-2:])
    losses = model.decoder_losses(logits, seeds, inputs)
    terms = {k: v for k, v in losses.items() if k.startswith('loss')}
    regions = dict(object_in_c_pos=objects & positive,
                   object_outside_c_pos=objects & ~positive,
                   background=~objects)
    out = {}
    margin = (logits[:, 1] - logits[:, 0]).detach()
    # every gradient first: the one-step probes below modify the
    # parameters in place, which the retained graph must not see
    all_grads = {name: torch.autograd.grad(value, [logits] + params,
                                           retain_graph=True,
                                           allow_unused=True)
                 for name, value in terms.items()}
    for name, grads in all_grads.items():
        logit_grad, param_grads = grads[0], grads[1:]
        norm = torch.sqrt(sum((g.detach()**2).sum() for g in param_grads
                              if g is not None))
        row = dict(grad_norm=float(norm))
        push = (logit_grad[:, 0] - logit_grad[:, 1]).detach() / 2
        moved = _margin_after_step(model, feats, inputs, params, param_grads,
                                   step_lr) - margin
        for region, mask in regions.items():
            row[f'push/{region}'] = float(push[mask].sum())
            row[f'step/{region}'] = float(moved[mask].sum())
            row[f'pixels/{region}'] = int(mask.sum())
        out[name] = row
    return out


@torch.no_grad()
def _margin_after_step(model, feats, inputs, params, grads, lr):
    """The foreground margin ``l_fg − l_bg`` after one plain SGD step of
    ``lr`` along ``grads`` (the parameters are restored)."""
    saved = [p.detach().clone() for p in params]
    try:
        for p, g in zip(params, grads):
            if g is not None:
                p.sub_(lr * g)
        logits = model.decoder(feats, inputs.shape[-2:])
        return logits[:, 1] - logits[:, 0]
    finally:
        for p, old in zip(params, saved):
            p.copy_(old)


def measure_loss_pushes(model, dataset, batch_size: int = 16,
                        seed: int = 0, step_lr: float = 0.01) -> List[dict]:
    """:func:`loss_term_pushes` over a split with masks, summed over its
    batches. Returns one row per term: ``term``, ``grad_norm`` (the mean
    over batches), ``grad_share`` (its share of the summed norms) and, per
    region, ``push/{region}`` and ``step/{region}`` = the mean push and
    the mean one-step change of the margin per pixel there. Every module
    is in eval mode (fixed BatchNorm statistics) and the model is left in
    the mode it came in."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    totals: Dict[str, Dict[str, float]] = {}
    batches = 0
    try:
        for start, inputs, cams, objects in cam_batches(
                model, dataset, batch_size, 'measure_loss_pushes'):
            generator = torch.Generator(device=device).manual_seed(
                seed + start)
            for name, row in loss_term_pushes(model, inputs, cams.detach(),
                                              objects, generator,
                                              step_lr).items():
                total = totals.setdefault(name, {})
                for key, value in row.items():
                    total[key] = total.get(key, 0.0) + value
            batches += 1
    finally:
        model.train(was_training)
    norm_sum = sum(t['grad_norm'] for t in totals.values()) or 1.0
    rows = []
    for name, total in totals.items():
        row = dict(term=name, grad_norm=total['grad_norm'] / batches,
                   grad_share=total['grad_norm'] / norm_sum)
        for region in REGIONS:
            for kind in ('push', 'step'):
                row[f'{kind}/{region}'] = total[f'{kind}/{region}'] / max(
                    total[f'pixels/{region}'], 1.0)
        rows.append(row)
    return rows


__all__ = ['REGIONS', 'loss_term_pushes', 'measure_loss_pushes']
