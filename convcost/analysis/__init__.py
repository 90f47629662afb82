"""Pure functions over a Stack: the analysis (Report), rewrites, comparisons, budgets and baselines, the HDC rules."""
