"""Score preference pairs with a trainer's policy and reference: sequence log-probs and the per-pair loss.

Used by the evaluation after training, by `harness train-eval`, by the early-stopping validation
and by the benchmark. The reference policy never changes during training, so its log-probs can
be kept in a `ReferenceCache` (row id -> (chosen, rejected)) and computed once per pair.
"""

from __future__ import annotations

from typing import Any

from harness.train.evaluate import PairScore
from harness.train.preferences import PreferenceRow, to_dataset
from harness.train.trainer import ReferenceCache, cached_reference, remember_reference


def score_pairs(trainer: Any, rows: list[PreferenceRow], groups: list[str], *, chat: bool, batch_size: int,
                reference: ReferenceCache | None = None) -> list[PairScore]:
    """Policy and reference log-probs and the per-example loss of every pair (those TRL keeps: a prompt
    that alone fills max_length is dropped, as in training). With `reference`, reference log-probs are
    read from it where present and added to it where not. The model's train/eval mode is restored."""
    import torch
    from torch.utils.data import DataLoader

    prepared = trainer._prepare_dataset(to_dataset(rows, groups, chat=chat), trainer.processing_class,
                                        trainer.args, "eval")
    by_id = {r.id: r for r in rows}
    prompt_lengths = [len(p) for p in prepared["prompt_ids"]]
    loader = DataLoader(prepared, batch_size=batch_size, shuffle=False,
                        collate_fn=trainer.data_collator)
    was_training = trainer.model.training
    trainer.model.eval()
    scores: list[PairScore] = []
    beta = float(trainer.beta)
    try:
        with torch.no_grad():
            for batch in loader:
                inputs = trainer._prepare_inputs(batch)
                terms = trainer.preference_terms(trainer.model, inputs, reference=cached_reference(reference, inputs))
                remember_reference(reference, inputs, terms)
                losses = trainer.per_example_loss(terms).tolist()
                values = zip(inputs["row_ids"], terms.chosen_logps.tolist(), terms.rejected_logps.tolist(),
                             terms.ref_chosen_logps.tolist(), terms.ref_rejected_logps.tolist(), losses)
                for row_id, cw, cl, rw, rl, loss in values:
                    i = len(scores)
                    scores.append(PairScore(by_id[row_id], cw, cl, rw, rl, loss, beta, prompt_lengths[i]))
    finally:
        trainer.model.train(was_training)
    return scores
