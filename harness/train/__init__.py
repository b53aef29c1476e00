"""Group-robust preference optimisation with TRL (GRPO of Ramesh et al. 2024, SPEC.md §3; Group DRO §4).

- config.py: the training config file (pydantic, errors with file, line and field)
- preferences.py: group-labelled preference rows through `datasets`, checked and split (train,
  validation, eval; whole clusters of paraphrases)
- opinionqa.py: preference pairs from OpinionQA-form survey data
- robust.py: per-group losses, exponentiated-gradient group weights, the importance baselines, the
  robust loss (pure tensors); the official code's equivalent η and adj; the IPO collapse check
- trainer.py: GroupRobustDPOTrainer, a subclass of TRL's DPOTrainer (η following the LR, plateau)
- build.py: config -> models, tokenizer, DPOConfig, objective, trainer
- scoring.py: policy and reference log-probs and the loss of every pair (reference cached)
- stopping.py: early stopping on the worst group's validation loss
- run.py: train from a config, save a model folder in the dtype it trained in
- evaluate.py: per-group reward accuracy, preference loss, worst group and gap in the results schema
- eval_run.py: evaluate a policy against its reference into a run directory
- compare.py: variants over seeds, worst-group values and paired differences, CIs clustered by fact
- harness/cli/train.py: the typer commands `harness train`, `harness train-eval`, `harness train-opinionqa`

Importing this package imports neither torch nor TRL; the modules that need them do.
"""
