"""Task kinds: each module is one kind (its task-file block, how a row becomes an item, what it asks,
how it is scored and which metric families it reports), registered in `harness.core.plugins.KINDS`."""
