"""convcost: exact costs of convolutional layer stacks, from YAML.

The API is imported lazily, so that ``convcost --help`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = {
    "analyze": "api", "compare": "api", "check": "api", "predict": "api", "hdc_check": "api", "summary": "api", "Summary": "api",
    "LayerRecord": "analysis.report", "Report": "analysis.report", "Rf": "analysis.report", "Totals": "analysis.report",
    "ConvcostError": "errors", "ExitCode": "errors", "Stack": "model.graph", "load": "yamlio.spec", "loads": "yamlio.spec",
}  # fmt: skip

if TYPE_CHECKING:
    from .analysis.report import LayerRecord, Report, Rf, Totals
    from .api import Summary, analyze, check, compare, hdc_check, predict, summary
    from .errors import ConvcostError, ExitCode
    from .model.graph import Stack
    from .yamlio.spec import load, loads


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'convcost' has no attribute '{name}'")


__all__ = [
    "ConvcostError",
    "ExitCode",
    "LayerRecord",
    "Report",
    "Rf",
    "Stack",
    "Summary",
    "Totals",
    "analyze",
    "check",
    "compare",
    "hdc_check",
    "load",
    "loads",
    "predict",
    "summary",
    "__version__",
]
