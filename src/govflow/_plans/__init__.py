"""Work plans (工作方案): phases, targets decomposed down the unit hierarchy, progress, lag and roll-ups."""
