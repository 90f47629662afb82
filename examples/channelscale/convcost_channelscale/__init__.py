"""A convcost kind from another package: ``channelscale``, a learned multiplier per channel
(ConvNeXt's layer scale). Registered through the ``convcost.kinds`` entry-point group."""

from typing import Any, ClassVar

from convcost.kinds.base import Kind, Shape


class ChannelScale(Kind):
    """A learned multiplier per channel (layer scale): y = γ · x."""

    kind: ClassVar[str] = "channelscale"
    COST = "params = C; 0 MACs (an elementwise product); shape kept"
    EXAMPLE = "channelscale"
    INIT: ClassVar[str] = "norm"  # γ drawn around 1

    def params(self, shape: Shape) -> int:
        return shape[0]

    def macs(self, shape: Shape, out: Shape) -> int:
        return 0  # elementwise: memory traffic, not multiply-accumulates

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(shape[0],)]

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        gamma = w[0].reshape(-1, *(1,) * (len(shape) - 1))
        return lambda x: x * gamma

    def torch_module(self, shape: Shape) -> Any:
        import torch

        class Scale(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.gamma = torch.nn.Parameter(torch.ones(shape[0]))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.gamma.reshape(-1, *(1,) * (x.dim() - 2))

        return Scale()
