"""An example harness plugin: a perturbation, a scorer, a metric family and a task kind, one module each."""
