"""Hand-written torch definitions of published nets (torchvision layouts; no torchvision here).

These are the independent truth for the zoo: written from the papers and torchvision's source,
not from convcost's YAML.
"""

from __future__ import annotations

import torch
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
    head: list[nn.Module] = [nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(),
                             nn.Dropout(), nn.Linear(4096, 1000)] if classifier else []  # fmt: skip
    return nn.Sequential(*layers, *head)


def mobilenet_v2() -> nn.Module:
    """torchvision MobileNetV2 (width 1.0)."""

    class InvertedResidual(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int, t: int) -> None:
            super().__init__()
            hidden = cin * t
            layers: list[nn.Module] = []
            if t != 1:
                layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
            layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
                       nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]  # fmt: skip
            self.conv, self.use_res = nn.Sequential(*layers), stride == 1 and cin == cout

        def forward(self, x):  # type: ignore[no-untyped-def]
            return x + self.conv(x) if self.use_res else self.conv(x)

    layers: list[nn.Module] = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()]
    cin = 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    layers += [nn.Conv2d(320, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1280, 1000))


def shufflenet_v2() -> nn.Module:
    """torchvision ShuffleNetV2 x1.0."""

    def shuffle(x):  # type: ignore[no-untyped-def]
        n, c, h, w = x.shape
        return x.reshape(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)

    class Unit(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            bf, self.stride = cout // 2, stride
            if stride > 1:
                self.branch1 = nn.Sequential(nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin),
                                             nn.Conv2d(cin, bf, 1, bias=False), nn.BatchNorm2d(bf), nn.ReLU())  # fmt: skip
            c2 = cin if stride > 1 else bf
            self.branch2 = nn.Sequential(nn.Conv2d(c2, bf, 1, bias=False), nn.BatchNorm2d(bf), nn.ReLU(),
                                         nn.Conv2d(bf, bf, 3, stride, 1, groups=bf, bias=False), nn.BatchNorm2d(bf),
                                         nn.Conv2d(bf, bf, 1, bias=False), nn.BatchNorm2d(bf), nn.ReLU())  # fmt: skip

        def forward(self, x):  # type: ignore[no-untyped-def]
            if self.stride == 1:
                x1, x2 = x.chunk(2, dim=1)
                out = torch.cat((x1, self.branch2(x2)), dim=1)
            else:
                out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
            return shuffle(out)

    layers: list[nn.Module] = [nn.Conv2d(3, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 24
    for repeats, cout in ((4, 116), (8, 232), (4, 464)):
        layers += [Unit(cin, cout, 2)] + [Unit(cout, cout, 1) for _ in range(repeats - 1)]
        cin = cout
    layers += [nn.Conv2d(464, 1024, 1, bias=False), nn.BatchNorm2d(1024), nn.ReLU()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000))


class Branches(nn.Module):
    def __init__(self, *branches: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return torch.cat([b(x) for b in self.branches], dim=1)


def inception_3a() -> nn.Module:
    def conv(cin: int, cout: int, k: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, k, padding=k // 2), nn.ReLU()]

    return Branches(nn.Sequential(*conv(192, 64, 1)), nn.Sequential(*conv(192, 96, 1), *conv(96, 128, 3)),
                    nn.Sequential(*conv(192, 16, 1), *conv(16, 32, 5)), nn.Sequential(nn.MaxPool2d(3, 1, 1), *conv(192, 32, 1)))  # fmt: skip


def densenet121_block1() -> nn.Module:
    class DenseLayer(nn.Module):
        def __init__(self, cin: int) -> None:
            super().__init__()
            self.f = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
                                   nn.Conv2d(128, 32, 3, padding=1, bias=False))  # fmt: skip

        def forward(self, x):  # type: ignore[no-untyped-def]
            return torch.cat([x, self.f(x)], 1)

    layers: list[nn.Module] = [DenseLayer(64 + 32 * i) for i in range(6)]
    return nn.Sequential(*layers, nn.BatchNorm2d(256), nn.ReLU(), nn.Conv2d(256, 128, 1, bias=False), nn.AvgPool2d(2, 2))


def se_resnet_block() -> nn.Module:
    class SEBottleneck(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(*conv_bn(256, 128, 1), *conv_bn(128, 128, 3, 2, 1), *conv_bn(128, 512, 1, relu=False))
            self.fc = nn.Sequential(nn.Linear(512, 32), nn.ReLU(), nn.Linear(32, 512), nn.Sigmoid())
            self.down = nn.Sequential(*conv_bn(256, 512, 1, 2, relu=False))

        def forward(self, x):  # type: ignore[no-untyped-def]
            y = self.body(x)
            y = y * self.fc(y.mean((2, 3)))[:, :, None, None]
            return (y + self.down(x)).relu()

    return SEBottleneck()


def deeplab_v3_head() -> nn.Module:
    class Unit(nn.Module):
        def __init__(self, cin: int, rate: int) -> None:
            super().__init__()
            self.body = nn.Sequential(*conv_bn(cin, 512, 1), nn.Conv2d(512, 512, 3, padding=rate, dilation=rate, bias=False),
                                      nn.BatchNorm2d(512), nn.ReLU(), *conv_bn(512, 2048, 1, relu=False))  # fmt: skip
            self.down = nn.Sequential(*conv_bn(cin, 2048, 1, relu=False)) if cin != 2048 else nn.Identity()

        def forward(self, x):  # type: ignore[no-untyped-def]
            return (self.body(x) + self.down(x)).relu()

    def atrous(rate: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(2048, 256, 3, padding=rate, dilation=rate, bias=False), nn.BatchNorm2d(256), nn.ReLU())

    pooling = nn.Sequential(
        nn.AdaptiveAvgPool2d(1), *conv_bn(2048, 256, 1), nn.Upsample(size=(33, 33), mode="bilinear", align_corners=False)
    )
    aspp = Branches(nn.Sequential(*conv_bn(2048, 256, 1)), atrous(6), atrous(12), atrous(18), pooling)
    return nn.Sequential(Unit(1024, 2), Unit(2048, 1), Unit(2048, 2), Unit(2048, 5), aspp, *conv_bn(1280, 256, 1), nn.Conv2d(256, 21, 1))


def unet() -> nn.Module:
    def double(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU()]

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc1, self.enc2, self.mid = (
                nn.Sequential(*double(1, 64)),
                nn.Sequential(*double(64, 128)),
                nn.Sequential(*double(128, 256)),
            )
            self.up2, self.dec2 = nn.ConvTranspose2d(256, 128, 2, 2), nn.Sequential(*double(256, 128))
            self.up1, self.dec1 = nn.ConvTranspose2d(128, 64, 2, 2), nn.Sequential(*double(128, 64))
            self.head = nn.Conv2d(64, 2, 1)

        def forward(self, x):  # type: ignore[no-untyped-def]
            e1 = self.enc1(x)
            e2 = self.enc2(nn.functional.max_pool2d(e1, 2))
            m = self.mid(nn.functional.max_pool2d(e2, 2))
            d2 = self.dec2(torch.cat([e2, self.up2(m)], 1))
            return self.head(self.dec1(torch.cat([e1, self.up1(d2)], 1)))

    return UNet()


def tc_resnet8() -> nn.Module:
    class Block(nn.Module):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Conv1d(cin, cout, 9, 2, 4, bias=False), nn.BatchNorm1d(cout), nn.ReLU(),
                                      nn.Conv1d(cout, cout, 9, 1, 4, bias=False), nn.BatchNorm1d(cout))  # fmt: skip
            self.down = nn.Sequential(nn.Conv1d(cin, cout, 1, 2, bias=False), nn.BatchNorm1d(cout), nn.ReLU())

        def forward(self, x):  # type: ignore[no-untyped-def]
            return (self.body(x) + self.down(x)).relu()

    return nn.Sequential(nn.Conv1d(40, 16, 3, padding=1, bias=False), Block(16, 24), Block(24, 32), Block(32, 48),
                         nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(48, 12))  # fmt: skip


def c3d() -> nn.Module:
    def conv(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv3d(cin, cout, 3, padding=1), nn.ReLU()]

    return nn.Sequential(*conv(3, 64), nn.MaxPool3d((1, 2, 2)), *conv(64, 128), nn.MaxPool3d(2), *conv(128, 256), *conv(256, 256),
                         nn.MaxPool3d(2), *conv(256, 512), *conv(512, 512), nn.MaxPool3d(2), *conv(512, 512), *conv(512, 512),
                         nn.MaxPool3d(2, padding=(0, 1, 1)), nn.Flatten(), nn.Linear(8192, 4096), nn.ReLU(), nn.Dropout(),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 487))  # fmt: skip


class ChannelWise3d(nn.Module):
    """ChannelNets' released code: a channel-wise conv is a Conv3d with kernel (d_c, 1, 1) over
    (channels, H, W); `groups` outputs with channel stride `stride` make a group channel-wise conv."""

    def __init__(self, c: int, dc: int, outputs: int = 1, stride: int = 1) -> None:
        super().__init__()
        total = max((-(-c // stride) - 1) * stride + dc - c, 0)  # TF SAME along channels
        self.pad = (0, 0, 0, 0, total // 2, total - total // 2)
        self.conv = nn.Conv3d(1, outputs, (dc, 1, 1), (stride, 1, 1), bias=False)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.conv(nn.functional.pad(x.unsqueeze(1), self.pad))
        return y.reshape(x.shape[0], -1, *x.shape[2:])


def channelnet_style() -> nn.Module:
    def bn_relu(c: int) -> list[nn.Module]:
        return [nn.BatchNorm2d(c), nn.ReLU()]

    def dws(cin: int, cout: int, stride: int = 1) -> list[nn.Module]:
        return [
            nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
            *bn_relu(cin),
            nn.Conv2d(cin, cout, 1, bias=False),
            *bn_relu(cout),
        ]

    class Module(nn.Module):
        def __init__(self, fuse: bool) -> None:
            super().__init__()
            first = [
                nn.Conv2d(512, 512, 3, 1, 1, groups=512, bias=False),
                *bn_relu(512),
                nn.Conv2d(512, 512, 1, groups=2, bias=False),
                *bn_relu(512),
            ]
            fusion = [ChannelWise3d(512, 8, outputs=2, stride=2)] if fuse else []
            second = [
                nn.Conv2d(512, 512, 3, 1, 1, groups=512, bias=False),
                *bn_relu(512),
                nn.Conv2d(512, 512, 1, groups=2, bias=False),
                *bn_relu(512),
            ]
            self.body = nn.Sequential(*first, *fusion, *second)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return x + self.body(x)

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv3d(1, 1, (1024 - 1000 + 1, 7, 7), bias=False)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.conv(x.unsqueeze(1)).reshape(x.shape[0], 1000)

    layers = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), *bn_relu(32), *dws(32, 64), *dws(64, 128, 2), *dws(128, 128), *dws(128, 256, 2),
              *dws(256, 256), *dws(256, 512, 2), Module(True), Module(False), Module(True), Module(False), *dws(512, 1024, 2),
              nn.Conv2d(1024, 1024, 3, 1, 1, groups=1024, bias=False), *bn_relu(1024), ChannelWise3d(1024, 64), Classifier()]  # fmt: skip
    return nn.Sequential(*layers)


def deformable_head_parts() -> list[tuple[nn.Module, tuple[int, ...]]]:
    """The head as plain torch convs with their input shapes: each deformable conv is its offset
    conv (with bias) plus a conv with the main weights (sampling is 0 MACs by convention)."""
    parts: list[tuple[nn.Module, tuple[int, ...]]] = []
    for taps in (18, 27):  # v1: 2·9 offsets; v2: 3·9 (offsets and mask)
        parts.append((nn.Conv2d(256, taps, 3, padding=1), (256, 50, 50)))
        parts.append((nn.Conv2d(256, 256, 3, padding=1, bias=False), (256, 50, 50)))
        parts.append((nn.GroupNorm(32, 256), (256, 50, 50)))
    parts.append((nn.Conv2d(256, 720, 3, padding=1), (256, 50, 50)))
    parts.append((nn.Conv2d(256, 36, 3, padding=1), (256, 50, 50)))
    return parts


# --- the seed articles' systems (issue: every system in the seeds) ----------------------------


def sobel_spatial() -> nn.Module:
    """Seed 000: a 3×1 conv then a 1×3 conv, one channel, no bias."""
    return nn.Sequential(nn.Conv2d(1, 1, (3, 1), padding=(1, 0), bias=False), nn.Conv2d(1, 1, (1, 3), padding=(0, 1), bias=False))


def depthwise_multiplier() -> nn.Module:
    """MobileNets §3.1: depthwise 3×3 with depth multiplier 2 (32 → 64 channels), then pointwise."""
    return nn.Sequential(*conv_bn(32, 64, 3, 1, 1, groups=32), *conv_bn(64, 64, 1))


class ResNeXtUnit(nn.Module):
    """torchvision resnext50_32x4d Bottleneck of layer1 (width 128 = 32 groups × 4), identity shortcut."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(*conv_bn(256, 128, 1), *conv_bn(128, 128, 3, 1, 1, groups=32), *conv_bn(128, 256, 1, relu=False))

    def forward(self, x):  # type: ignore[no-untyped-def]
        return (self.body(x) + x).relu()


def dilated(rates: tuple[int, ...]) -> nn.Module:
    """3×3 convs 64 → 64 with these dilations, padding = dilation (size kept), ReLU, no bias."""
    layers: list[nn.Module] = []
    for r in rates:
        layers += [nn.Conv2d(64, 64, 3, padding=r, dilation=r, bias=False), nn.ReLU()]
    return nn.Sequential(*layers)


def alexnet() -> nn.Module:
    """torchvision alexnet, as written there (features, AdaptiveAvgPool2d((6, 6)), classifier)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(),
        nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000),
    )  # fmt: skip


class GroupedBottleneck(nn.Module):
    """torchvision Bottleneck with groups=32, base_width=4: width = int(planes · 4/64) · 32."""

    def __init__(self, cin: int, planes: int, stride: int) -> None:
        super().__init__()
        width = int(planes * (4 / 64.0)) * 32
        self.body = nn.Sequential(*conv_bn(cin, width, 1), *conv_bn(width, width, 3, stride, 1, groups=32),
                                  *conv_bn(width, planes * 4, 1, relu=False))  # fmt: skip
        self.down = nn.Sequential(*conv_bn(cin, planes * 4, 1, stride, relu=False)) if stride != 1 or cin != planes * 4 else nn.Identity()

    def forward(self, x):  # type: ignore[no-untyped-def]
        return (self.body(x) + self.down(x)).relu()


def resnext50_32x4d() -> nn.Module:
    layers: list[nn.Module] = [*conv_bn(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(GroupedBottleneck(cin, planes, stride if i == 0 else 1))
            cin = planes * 4
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000))


def _make_divisible(v: float, divisor: int) -> int:
    """torchvision.models._utils._make_divisible."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class _SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation: avgpool, 1×1 conv, ReLU, 1×1 conv, Hardsigmoid, scale."""

    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, squeeze, 1), nn.Conv2d(squeeze, c, 1)

    def forward(self, x):  # type: ignore[no-untyped-def]
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        return x * nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(s))))


class _InvertedResidualV3(nn.Module):
    """torchvision mobilenetv3.InvertedResidual for one InvertedResidualConfig."""

    def __init__(self, cin: int, k: int, exp: int, out: int, se: bool, act: str, stride: int) -> None:
        super().__init__()
        activation = nn.Hardswish if act == "HS" else nn.ReLU
        layers: list[nn.Module] = []
        if exp != cin:
            layers += [nn.Conv2d(cin, exp, 1, bias=False), nn.BatchNorm2d(exp), activation()]
        layers += [nn.Conv2d(exp, exp, k, stride, (k - 1) // 2, groups=exp, bias=False), nn.BatchNorm2d(exp), activation()]
        if se:
            layers.append(_SqueezeExcitation(exp, _make_divisible(exp // 4, 8)))
        layers += [nn.Conv2d(exp, out, 1, bias=False), nn.BatchNorm2d(out)]
        self.block, self.residual = nn.Sequential(*layers), stride == 1 and cin == out

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.block(x)
        return y + x if self.residual else y


MOBILENET_V3_LARGE = [  # input_c, kernel, expanded_c, out_c, use_se, activation, stride (torchvision's table)
    (16, 3, 16, 16, False, "RE", 1), (16, 3, 64, 24, False, "RE", 2), (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 72, 40, True, "RE", 2), (40, 5, 120, 40, True, "RE", 1), (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2), (80, 3, 200, 80, False, "HS", 1), (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1), (80, 3, 480, 112, True, "HS", 1), (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2), (160, 5, 960, 160, True, "HS", 1), (160, 5, 960, 160, True, "HS", 1),
]  # fmt: skip


MOBILENET_V3_SMALL = [
    (16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2), (24, 3, 88, 24, False, "RE", 1),
    (24, 5, 96, 40, True, "HS", 2), (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1), (48, 5, 288, 96, True, "HS", 2),
    (96, 5, 576, 96, True, "HS", 1), (96, 5, 576, 96, True, "HS", 1),
]  # fmt: skip


def _mobilenet_v3(table: list[tuple[int, int, int, int, bool, str, int]], last_channel: int) -> nn.Module:
    """torchvision MobileNetV3: stem, the table's blocks, a 1×1 conv to 6× the last width, the classifier."""
    layers: list[nn.Module] = [nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish()]
    layers += [_InvertedResidualV3(*row) for row in table]
    c, wide = table[-1][3], 6 * table[-1][3]
    layers += [nn.Conv2d(c, wide, 1, bias=False), nn.BatchNorm2d(wide), nn.Hardswish(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(wide, last_channel), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(last_channel, 1000)]  # fmt: skip
    return nn.Sequential(*layers)


def mobilenet_v3_large() -> nn.Module:
    return _mobilenet_v3(MOBILENET_V3_LARGE, 1280)


def mobilenet_v3_small() -> nn.Module:
    return _mobilenet_v3(MOBILENET_V3_SMALL, 1024)


class _MBConv(nn.Module):
    """torchvision efficientnet.MBConv (inference: stochastic depth is the identity)."""

    def __init__(self, e: int, k: int, stride: int, cin: int, out: int) -> None:
        super().__init__()
        exp = _make_divisible(cin * e, 8)
        layers: list[nn.Module] = []
        if exp != cin:
            layers += [nn.Conv2d(cin, exp, 1, bias=False), nn.BatchNorm2d(exp), nn.SiLU()]
        layers += [nn.Conv2d(exp, exp, k, stride, (k - 1) // 2, groups=exp, bias=False), nn.BatchNorm2d(exp), nn.SiLU()]
        squeeze = max(1, cin // 4)
        self.fc1, self.fc2 = nn.Conv2d(exp, squeeze, 1), nn.Conv2d(squeeze, exp, 1)  # SqueezeExcitation(SiLU, Sigmoid)
        self.pre, self.post = nn.Sequential(*layers), nn.Sequential(nn.Conv2d(exp, out, 1, bias=False), nn.BatchNorm2d(out))
        self.residual = stride == 1 and cin == out

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.pre(x)
        y = y * torch.sigmoid(self.fc2(nn.functional.silu(self.fc1(nn.functional.adaptive_avg_pool2d(y, 1)))))
        y = self.post(y)
        return y + x if self.residual else y


EFFICIENTNET_B0 = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]  # expand_ratio, kernel, stride, in, out, layers (torchvision)


def efficientnet_b0() -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.SiLU()]
    for e, k, stride, cin, out, count in EFFICIENTNET_B0:
        for i in range(count):
            layers.append(_MBConv(e, k, stride if i == 0 else 1, cin if i == 0 else out, out))
    layers += [nn.Conv2d(320, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Dropout(0.2), nn.Linear(1280, 1000)]  # fmt: skip
    return nn.Sequential(*layers)


class _ResBottleneckBlock(nn.Module):
    """torchvision regnet.ResBottleneckBlock (bottleneck multiplier 1, SE ratio 0.25)."""

    def __init__(self, cin: int, w: int, stride: int, group_width: int = 8) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(cin, w, 1, stride, bias=False), nn.BatchNorm2d(w)) if cin != w or stride != 1 else None
        squeeze = int(round(0.25 * cin))
        self.a = nn.Sequential(*conv_bn(cin, w, 1), *conv_bn(w, w, 3, stride, 1, groups=w // group_width))
        self.fc1, self.fc2 = nn.Conv2d(w, squeeze, 1), nn.Conv2d(squeeze, w, 1)
        self.c = nn.Sequential(nn.Conv2d(w, w, 1, bias=False), nn.BatchNorm2d(w))

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.a(x)
        y = self.c(y * torch.sigmoid(self.fc2(torch.relu(self.fc1(nn.functional.adaptive_avg_pool2d(y, 1))))))
        return (y + (self.proj(x) if self.proj is not None else x)).relu()


def regnet_y_400mf() -> nn.Module:
    layers: list[nn.Module] = [*conv_bn(3, 32, 3, 2, 1)]
    cin = 32
    for w, depth in ((48, 1), (104, 3), (208, 6), (440, 6)):  # torchvision's widths and depths for 400MF
        for i in range(depth):
            layers.append(_ResBottleneckBlock(cin, w, 2 if i == 0 else 1))
            cin = w
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(440, 1000))


class _LayerNorm2d(nn.LayerNorm):
    """torchvision convnext.LayerNorm2d: LayerNorm over channels of an NCHW tensor."""

    def forward(self, x):  # type: ignore[no-untyped-def]
        return nn.functional.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps).permute(0, 3, 1, 2)


class _CNBlock(nn.Module):
    """torchvision convnext.CNBlock at inference (stochastic depth is the identity)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm, self.fc1, self.fc2 = nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.fc2(nn.functional.gelu(self.fc1(self.norm(y)))).permute(0, 3, 1, 2)
        return x + self.layer_scale * y


def convnext_tiny() -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(3, 96, 4, 4), _LayerNorm2d(96, eps=1e-6)]
    dims, depths = (96, 192, 384, 768), (3, 3, 9, 3)
    for i, (dim, depth) in enumerate(zip(dims, depths)):
        layers += [_CNBlock(dim) for _ in range(depth)]
        if i < 3:
            layers += [_LayerNorm2d(dim, eps=1e-6), nn.Conv2d(dim, dims[i + 1], 2, 2)]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), _LayerNorm2d(768, eps=1e-6), nn.Flatten(), nn.Linear(768, 1000))


class FPNResNet50(nn.Module):
    """ResNet-50's C2–C5 and torchvision.ops.FeaturePyramidNetwork([256, 512, 1024, 2048], 256,
    LastLevelMaxPool()), its forward as torchvision writes it (nearest interpolation to the
    lateral's size, lateral + top-down, results P2–P5 then max_pool2d(P5, 1, 2, 0))."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, 1))
        stages, cin = [], 64
        for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            units = []
            for i in range(blocks):
                units.append(Bottleneck(cin, width, stride if i == 0 else 1))
                cin = 4 * width
            stages.append(nn.Sequential(*units))
        self.stages = nn.ModuleList(stages)
        self.inner_blocks = nn.ModuleList(nn.Conv2d(c, 256, 1) for c in (256, 512, 1024, 2048))
        self.layer_blocks = nn.ModuleList(nn.Conv2d(256, 256, 3, padding=1) for _ in range(4))

    def forward(self, x):  # type: ignore[no-untyped-def]
        feats, x = [], self.stem(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        last_inner = self.inner_blocks[-1](feats[-1])
        results = [self.layer_blocks[-1](last_inner)]
        for idx in range(len(feats) - 2, -1, -1):
            inner_lateral = self.inner_blocks[idx](feats[idx])
            inner_top_down = nn.functional.interpolate(last_inner, size=inner_lateral.shape[-2:], mode="nearest")
            last_inner = inner_lateral + inner_top_down
            results.insert(0, self.layer_blocks[idx](last_inner))
        results.append(nn.functional.max_pool2d(results[-1], 1, 2, 0))
        return tuple(results)


class RGBDFusion(nn.Module):
    """Two inputs (an RGB image and a depth map), a stem each, fused by concatenation and by a
    depth-gated sum (rgb + sigmoid(depth) · rgb), then a shared head: a two-stream fusion net."""

    def __init__(self) -> None:
        super().__init__()
        self.rgb = nn.Sequential(*conv_bn(3, 32, 3, 2, 1), *conv_bn(32, 64, 3, 2, 1))
        self.depth = nn.Sequential(*conv_bn(1, 16, 3, 2, 1), *conv_bn(16, 64, 3, 2, 1))
        self.gate = nn.Conv2d(64, 64, 1)
        self.fuse = nn.Sequential(*conv_bn(128, 128, 3, 1, 1))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))

    def forward(self, rgb, depth):  # type: ignore[no-untyped-def]
        r, d = self.rgb(rgb), self.depth(depth)
        gated = r + torch.sigmoid(self.gate(d)) * r
        return self.head(self.fuse(torch.cat([gated, d], 1)))


class OSAModule(nn.Module):
    """VoVNet's one-shot aggregation (Lee et al. 2019, timm vovnet OsaBlock): five 3×3 convs in a
    chain, the input and every conv's output concatenated once, a 1×1 conv; identity added (V2)."""

    def __init__(self, cin: int = 64, mid: int = 32, out: int = 64) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Sequential(*conv_bn(cin if i == 0 else mid, mid, 3, 1, 1)) for i in range(5))
        self.concat = nn.Sequential(*conv_bn(cin + 5 * mid, out, 1))

    def forward(self, x):  # type: ignore[no-untyped-def]
        outs, y = [x], x
        for conv in self.convs:
            y = conv(y)
            outs.append(y)
        return self.concat(torch.cat(outs, 1)) + x


class DLATree(nn.Module):
    """DLA's hierarchical aggregation of depth 2 (Yu et al. 2018, DLA-34's level 3): two basic
    blocks, a third and fourth on their result, and a root that concatenates the last block's
    output, the one before, and the first tree's output (a long skip)."""

    def __init__(self, c: int = 32) -> None:
        super().__init__()
        self.b1, self.b2, self.b3, self.b4 = (Basic(c, c, 1) for _ in range(4))
        self.root1 = nn.Sequential(*conv_bn(2 * c, c, 1))
        self.root2 = nn.Sequential(*conv_bn(3 * c, c, 1))

    def forward(self, x):  # type: ignore[no-untyped-def]
        x1 = self.b1(x)
        x2 = self.b2(x1)
        t1 = self.root1(torch.cat([x2, x1], 1))
        x3 = self.b3(t1)
        x4 = self.b4(x3)
        return self.root2(torch.cat([x4, x3, t1], 1))


class HRExchange(nn.Module):
    """An HRNet exchange unit of two resolutions (Wang et al. 2019): each branch a basic block,
    then each output the sum of its own branch and the other resolved to it (1×1 conv + nearest
    up-sampling for high, a strided 3×3 conv for low); both returned."""

    def __init__(self, high: int = 18, low: int = 36) -> None:
        super().__init__()
        self.high, self.low = Basic(high, high, 1), Basic(low, low, 1)
        self.down = nn.Sequential(nn.Conv2d(high, low, 3, 2, 1, bias=False), nn.BatchNorm2d(low))
        self.up = nn.Sequential(nn.Conv2d(low, high, 1, bias=False), nn.BatchNorm2d(high), nn.Upsample(scale_factor=2))
        self.stem = nn.Sequential(*conv_bn(high, low, 3, 2, 1))

    def forward(self, x):  # type: ignore[no-untyped-def]
        h, l = self.high(x), self.low(self.stem(x))  # noqa: E741
        return (h + self.up(l)).relu(), (l + self.down(h)).relu()


class Res2NetUnit(nn.Module):
    """Res2Net's hierarchical split (Gao et al. 2019, scale 4): a 1×1 conv, four chunks; the first
    kept, each next one convolved after adding the previous result; concatenated, a 1×1 conv,
    and the identity added."""

    def __init__(self, c: int = 64, width: int = 16) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(*conv_bn(c, 4 * width, 1))
        self.convs = nn.ModuleList(nn.Sequential(*conv_bn(width, width, 3, 1, 1)) for _ in range(3))
        self.conv3 = nn.Sequential(*conv_bn(4 * width, c, 1, relu=False))

    def forward(self, x):  # type: ignore[no-untyped-def]
        parts = torch.chunk(self.conv1(x), 4, 1)
        outs, y = [parts[0]], None
        for i, conv in enumerate(self.convs):
            y = conv(parts[i + 1] if y is None else parts[i + 1] + y)
            outs.append(y)
        return (self.conv3(torch.cat(outs, 1)) + x).relu()


class SelecSLSBlock(nn.Module):
    """SelecSLS's block (Mehta et al. 2020, timm selecsls SelecSlsBlock): a chain of convs whose
    first and third outputs are concatenated with the last, then a 1×1 conv."""

    def __init__(self, cin: int = 32, mid: int = 32, out: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(*conv_bn(cin, mid, 3, 1, 1))
        self.conv2 = nn.Sequential(*conv_bn(mid, mid, 1))
        self.conv3 = nn.Sequential(*conv_bn(mid, mid // 2, 3, 1, 1))
        self.conv4 = nn.Sequential(*conv_bn(mid // 2, mid, 1))
        self.conv5 = nn.Sequential(*conv_bn(mid, mid // 2, 3, 1, 1))
        self.conv6 = nn.Sequential(*conv_bn(mid + mid // 2 + mid // 2, out, 1))

    def forward(self, x):  # type: ignore[no-untyped-def]
        d1 = self.conv1(x)
        d2 = self.conv3(self.conv2(d1))
        d3 = self.conv5(self.conv4(d2))
        return self.conv6(torch.cat([d1, d2, d3], 1))


class YConv(nn.Sequential):
    """Ultralytics' Conv: conv (padding k // 2, no bias), BatchNorm2d, SiLU."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1) -> None:
        super().__init__(nn.Conv2d(c1, c2, k, s, k // 2, bias=False), nn.BatchNorm2d(c2, eps=0.001), nn.SiLU())


class C2f(nn.Module):
    """Ultralytics' C2f (ultralytics/nn/modules/block.py): cv1 to 2c channels, chunk in two, n
    bottlenecks (3×3, 3×3, e = 1.0) chained on the second half, concatenated with both halves, cv2."""

    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = False) -> None:
        super().__init__()
        self.c = c2 // 2
        self.cv1, self.cv2 = YConv(c1, 2 * self.c), YConv((2 + n) * self.c, c2)
        self.m = nn.ModuleList(nn.Sequential(YConv(self.c, self.c, 3), YConv(self.c, self.c, 3)) for _ in range(n))
        self.add = shortcut

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(y[-1] + m(y[-1]) if self.add else m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1: int, c2: int, k: int = 5) -> None:
        super().__init__()
        self.cv1, self.cv2, self.m = YConv(c1, c1 // 2), YConv(c1 // 2 * 4, c2), nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


class YOLOv8nPAN(nn.Module):
    """yolov8.yaml at scale n, rows 0–21 (backbone and PAN neck), routed as its ``from`` column says."""

    def __init__(self) -> None:
        super().__init__()
        self.b = nn.ModuleList([YConv(3, 16, 3, 2), YConv(16, 32, 3, 2), C2f(32, 32, 1, True), YConv(32, 64, 3, 2),
                                C2f(64, 64, 2, True), YConv(64, 128, 3, 2), C2f(128, 128, 2, True), YConv(128, 256, 3, 2),
                                C2f(256, 256, 1, True), SPPF(256, 256)])  # fmt: skip
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.c12, self.c15 = C2f(384, 128), C2f(192, 64)
        self.d16, self.c18 = YConv(64, 64, 3, 2), C2f(192, 128)
        self.d19, self.c21 = YConv(128, 128, 3, 2), C2f(384, 256)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = []
        for layer in self.b:
            x = layer(x)
            y.append(x)
        p12 = self.c12(torch.cat([self.up(y[9]), y[6]], 1))
        p15 = self.c15(torch.cat([self.up(p12), y[4]], 1))
        p18 = self.c18(torch.cat([self.d16(p15), p12], 1))
        p21 = self.c21(torch.cat([self.d19(p18), y[9]], 1))
        return p15, p18, p21


class HRStage(nn.Module):
    """HRNet-Image-Classification's HighResolutionModule (BASIC blocks, multi-scale output) with
    its fuse layers, for w18_small_v2's stage 3: branches of 18/36/72 channels, two blocks each."""

    def __init__(self, channels: tuple[int, ...] = (18, 36, 72), blocks: int = 2) -> None:
        super().__init__()
        self.branches = nn.ModuleList(nn.Sequential(*(Basic(c, c, 1) for _ in range(blocks))) for c in channels)
        n = len(channels)
        fuse = []
        for i in range(n):
            row = []
            for j in range(n):
                if j > i:
                    row.append(nn.Sequential(nn.Conv2d(channels[j], channels[i], 1, bias=False), nn.BatchNorm2d(channels[i]),
                                             nn.Upsample(scale_factor=2 ** (j - i), mode="nearest")))  # fmt: skip
                elif j == i:
                    row.append(nn.Identity())
                else:
                    steps: list[nn.Module] = []
                    for k in range(i - j):
                        last = k == i - j - 1
                        out = channels[i] if last else channels[j]
                        steps += [nn.Conv2d(channels[j], out, 3, 2, 1, bias=False), nn.BatchNorm2d(out)] + ([] if last else [nn.ReLU()])
                    row.append(nn.Sequential(*steps))
            fuse.append(nn.ModuleList(row))
        self.fuse_layers = nn.ModuleList(fuse)

    def forward(self, x0, x1, x2):  # type: ignore[no-untyped-def]
        x = [b(t) for b, t in zip(self.branches, (x0, x1, x2))]
        outs = []
        for row in self.fuse_layers:
            y = row[0](x[0])
            for j in range(1, len(x)):
                y = y + row[j](x[j])
            outs.append(y.relu())
        return tuple(outs)


class SeparableConvBlock(nn.Module):
    """Yet-Another-EfficientDet-Pytorch's SeparableConvBlock (norm, no activation): a depthwise
    3×3 without bias, a pointwise 1×1 with bias, batch norm."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.depthwise_conv = nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False)
        self.pointwise_conv = nn.Conv2d(c, c, 1)
        self.bn = nn.BatchNorm2d(c, momentum=0.01, eps=1e-3)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.bn(self.pointwise_conv(self.depthwise_conv(x)))


class BiFPN(nn.Module):
    """One BiFPN layer as Yet-Another-EfficientDet-Pytorch's BiFPN._forward_fast_attention writes it
    (not the first layer: its inputs already have ``c`` channels): fast normalized fusion weights
    p6_w1 … p7_w2, swish before each node's conv, nearest ×2 up, "same" 3×3/2 max pool down."""

    def __init__(self, c: int = 64) -> None:
        super().__init__()
        names = ["conv6_up", "conv5_up", "conv4_up", "conv3_up", "conv4_down", "conv5_down", "conv6_down", "conv7_down"]
        for name in names:
            setattr(self, name, SeparableConvBlock(c))
        for name, n in (("p6_w1", 2), ("p5_w1", 2), ("p4_w1", 2), ("p3_w1", 2), ("p4_w2", 3), ("p5_w2", 3), ("p6_w2", 3), ("p7_w2", 2)):
            setattr(self, name, nn.Parameter(torch.ones(n)))
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.swish = nn.SiLU()

    @staticmethod
    def down(x):  # type: ignore[no-untyped-def]
        return nn.functional.max_pool2d(nn.functional.pad(x, [0, 1, 0, 1]), 3, 2)  # MaxPool2dStaticSamePadding(3, 2) on even sizes

    def fused(self, w, *xs):  # type: ignore[no-untyped-def]
        w = w.relu()
        w = w / (w.sum() + 1e-4)
        return self.swish(sum(wi * x for wi, x in zip(w, xs)))

    def forward(self, p3, p4, p5, p6, p7):  # type: ignore[no-untyped-def]
        p6_up = self.conv6_up(self.fused(self.p6_w1, p6, self.up(p7)))
        p5_up = self.conv5_up(self.fused(self.p5_w1, p5, self.up(p6_up)))
        p4_up = self.conv4_up(self.fused(self.p4_w1, p4, self.up(p5_up)))
        p3_out = self.conv3_up(self.fused(self.p3_w1, p3, self.up(p4_up)))
        p4_out = self.conv4_down(self.fused(self.p4_w2, p4, p4_up, self.down(p3_out)))
        p5_out = self.conv5_down(self.fused(self.p5_w2, p5, p5_up, self.down(p4_out)))
        p6_out = self.conv6_down(self.fused(self.p6_w2, p6, p6_up, self.down(p5_out)))
        p7_out = self.conv7_down(self.fused(self.p7_w2, p7, self.down(p6_out)))
        return p3_out, p4_out, p5_out, p6_out, p7_out


class DlaBasic(nn.Module):
    """timm's DlaBasic: conv3×3 (stride), BN, ReLU, conv3×3, BN, + the shortcut (given, else x), ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(*conv_bn(cin, cout, 3, stride, 1), *conv_bn(cout, cout, 3, 1, 1, relu=False))

    def forward(self, x, shortcut=None):  # type: ignore[no-untyped-def]
        return (self.body(x) + (x if shortcut is None else shortcut)).relu()


class DlaTree(nn.Module):
    """timm's DlaTree (root without shortcut, kernel 1; the project only where levels == 1)."""

    def __init__(self, levels: int, cin: int, cout: int, stride: int = 1, level_root: bool = False, root_dim: int = 0) -> None:
        super().__init__()
        root_dim = (root_dim or 2 * cout) + (cin if level_root else 0)
        self.downsample = nn.MaxPool2d(stride, stride) if stride > 1 else nn.Identity()
        self.project: nn.Module = nn.Identity()
        if levels == 1:
            self.tree1: nn.Module = DlaBasic(cin, cout, stride)
            self.tree2: nn.Module = DlaBasic(cout, cout)
            if cin != cout:
                self.project = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
            self.root = nn.Sequential(*conv_bn(root_dim, cout, 1))
        else:
            self.tree1 = DlaTree(levels - 1, cin, cout, stride)
            self.tree2 = DlaTree(levels - 1, cout, cout, root_dim=root_dim + cout)
        self.level_root, self.levels = level_root, levels

    def forward(self, x, shortcut=None, children=None):  # type: ignore[no-untyped-def]
        children = [] if children is None else children
        bottom = self.downsample(x)
        shortcut = self.project(bottom)
        if self.level_root:
            children.append(bottom)
        x1 = self.tree1(x, shortcut)
        if self.levels == 1:
            return self.root(torch.cat([self.tree2(x1), x1, *children], 1))
        children.append(x1)
        return self.tree2(x1, children=children)


def dla34() -> nn.Module:
    """timm's dla34: levels 1,1,1,2,2,1, channels 16–512, DlaBasic; avg pool and a 1×1 conv classifier."""
    return nn.Sequential(*conv_bn(3, 16, 7, 1, 3), *conv_bn(16, 16, 3, 1, 1), *conv_bn(16, 32, 3, 2, 1),
                         DlaTree(1, 32, 64, 2), DlaTree(2, 64, 128, 2, True), DlaTree(2, 128, 256, 2, True),
                         DlaTree(1, 256, 512, 2, True), nn.AdaptiveAvgPool2d(1), nn.Conv2d(512, 1000, 1), nn.Flatten())  # fmt: skip


class InceptionC(nn.Module):
    """Inception-v4's Inception-C block (Szegedy et al. 2017, Figure 6; timm inception_v4's
    InceptionC): four branches, two of which fork again into a 1×3 and a 3×1 conv whose outputs
    are concatenated with the rest (paths that do not nest as one concat). The pool counts its
    padding (torch's default; timm's excludes it, which changes no count)."""

    def __init__(self) -> None:
        super().__init__()

        def cbr(cin: int, cout: int, k: tuple[int, int]) -> nn.Module:
            return nn.Sequential(nn.Conv2d(cin, cout, k, padding=(k[0] // 2, k[1] // 2), bias=False), nn.BatchNorm2d(cout), nn.ReLU())

        self.branch0 = cbr(1536, 256, (1, 1))
        self.branch1_0, self.branch1_1a, self.branch1_1b = cbr(1536, 384, (1, 1)), cbr(384, 256, (1, 3)), cbr(384, 256, (3, 1))
        self.branch2_0, self.branch2_1, self.branch2_2 = cbr(1536, 384, (1, 1)), cbr(384, 448, (3, 1)), cbr(448, 512, (1, 3))
        self.branch2_3a, self.branch2_3b = cbr(512, 256, (1, 3)), cbr(512, 256, (3, 1))
        self.branch3 = nn.Sequential(nn.AvgPool2d(3, 1, 1), cbr(1536, 256, (1, 1)))

    def forward(self, x):  # type: ignore[no-untyped-def]
        b1, b2 = self.branch1_0(x), self.branch2_2(self.branch2_1(self.branch2_0(x)))
        return torch.cat([self.branch0(x), self.branch1_1a(b1), self.branch1_1b(b1), self.branch2_3a(b2), self.branch2_3b(b2),
                          self.branch3(x)], 1)  # fmt: skip
