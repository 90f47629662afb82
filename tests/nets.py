"""Hand-written torch definitions of published nets (torchvision layouts; no torchvision here).

These are the independent truth for the zoo: written from the papers and torchvision's source,
not from convcost's YAML.
"""

from __future__ import annotations

from torch import nn


def conv_bn(cin: int, cout: int, k: int, s: int = 1, p: int = 0, groups: int = 1, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, s, p, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return layers + ([nn.ReLU()] if relu else [])


class Bottleneck(nn.Module):
    """torchvision Bottleneck (v1.5: stride on the 3×3); ``v1`` puts it on the first 1×1."""

    def __init__(self, cin: int, width: int, stride: int, v1: bool = False) -> None:
        super().__init__()
        s1, s3 = (stride, 1) if v1 else (1, stride)
        self.body = nn.Sequential(*conv_bn(cin, width, 1, s1), *conv_bn(width, width, 3, s3, 1), *conv_bn(width, 4 * width, 1, relu=False))
        self.down = nn.Sequential(*conv_bn(cin, 4 * width, 1, stride, relu=False)) if stride != 1 or cin != 4 * width else nn.Identity()

    def forward(self, x):  # type: ignore[no-untyped-def]
        return (self.body(x) + self.down(x)).relu()


class Basic(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*conv_bn(cin, cout, 3, stride, 1), *conv_bn(cout, cout, 3, 1, 1, relu=False))
        self.down = nn.Sequential(*conv_bn(cin, cout, 1, stride, relu=False)) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):  # type: ignore[no-untyped-def]
        return (self.body(x) + self.down(x)).relu()


def resnet50(v1: bool = False) -> nn.Module:
    layers: list[nn.Module] = [*conv_bn(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(cin, width, stride if i == 0 else 1, v1))
            cin = 4 * width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000))


def resnet18() -> nn.Module:
    layers: list[nn.Module] = [*conv_bn(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Basic(cin, cout, stride), Basic(cout, cout, 1)]
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000))


def mobilenet_v1(alpha: float = 1.0) -> nn.Module:
    def c(n: int) -> int:
        return int(n * alpha)

    cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    layers: list[nn.Module] = conv_bn(3, c(32), 3, 2, 1)
    cin = c(32)
    for cout, stride in cfg:
        layers += conv_bn(cin, cin, 3, stride, 1, groups=cin) + conv_bn(cin, c(cout), 1)
        cin = c(cout)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000))


VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16(classifier: bool = True) -> nn.Module:
    layers: list[nn.Module] = []
    cin = 3
    for v in VGG16_CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, int(v), 3, padding=1), nn.ReLU()]
            cin = int(v)
    head: list[nn.Module] = [nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(),
                             nn.Dropout(), nn.Linear(4096, 1000)] if classifier else []  # fmt: skip
    return nn.Sequential(*layers, *head)
