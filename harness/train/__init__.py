"""Group-robust preference optimisation with TRL (GRPO of Ramesh et al. 2024, SPEC.md §3; Group DRO §4).

- config.py: the training config file (pydantic, errors with file, line and field)
- data.py: group-labelled preference rows through `datasets`, checked and split
- opinionqa.py: preference pairs from OpinionQA-form survey data
- robust.py: per-group losses, exponentiated-gradient group weights, the robust loss (pure tensors)
- trainer.py: GroupRobustDPOTrainer, a subclass of TRL's DPOTrainer
- evaluate.py: per-group reward accuracy, preference loss, worst group and gap in the results schema
- run.py: train from a config, save a model folder, evaluate a policy against its reference
- cli.py: the typer commands `harness train`, `harness train-eval`, `harness train-opinionqa`

Importing this package imports neither torch nor TRL; the modules that need them do.
"""
