"""Background work: expiry sweeps (and later the batch runner). Calls services only."""
