"""Real models other people wrote — torchvision's and timm's Python code — and the truth about
them from torch itself: params = ``sum(p.numel())`` of the parameters forward() reads, MACs =
``FlopCounterMode`` FLOPs ÷ 2, the output shape. ``tests/test_real_models.py`` and
``benchmarks/bench_import.py`` import them through convcost and compare.

torchvision's compiled ops do not load against the CPU torch; its Python models do once its
meta-registration module is skipped, before the first import of torchvision — here, at the top of
the module that defines the factories, so it also holds when ``convcost import tests/real.py:F``
runs in a subprocess.
"""

from __future__ import annotations

import sys
import types

sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))

import importlib.util  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

HAVE_TORCHVISION = importlib.util.find_spec("torchvision") is not None
HAVE_TIMM = HAVE_TORCHVISION and importlib.util.find_spec("timm") is not None

#: Where an import is refused, what the one line names (a substring of it); the rest are exact.
#: The ops named are what the attention issue adds (token reshapes, matmuls of two tensors,
#: reductions, learned tokens and embeddings); a model that starts to import exactly fails its
#: test until its line goes.
REFUSED = {
    # torchvision: the transformers
    "maxvit_t": "aten.view", "swin_t": "aten.constant_pad_nd", "swin_v2_t": "aten.constant_pad_nd",
    "vit_b_16": "aten.view", "vit_b_32": "aten.view",
    # timm
    "ecaresnet26t": "aten.expand", "resnest14d": "aten.sum", "resnest26d": "aten.sum", "skresnet18": "aten.stack",
    "skresnext50_32x4d": "aten.stack", "convnextv2_atto": "aten.linalg_vector_norm", "edgenext_xx_small": "aten.view",
    "efficientformer_l1": "aten.view", "mobilevit_xxs": "aten.view", "levit_128s": "aten.view",
    "vit_tiny_patch16_224": "aten.view", "deit_tiny_patch16_224": "aten.view", "hgnetv2_b0": "aten.add",
    "ghostnetv2_100": "aten.upsample_nearest2d", "efficientvit_b0": "aten.view",
    "efficientvit_m0": "aten.constant_pad_nd", "tiny_vit_5m_224": "aten.view", "mixer_b16_224": "aten.view",
    "resmlp_12_224": "aten.view", "swin_tiny_patch4_window7_224": "aten.constant_pad_nd",
    "maxvit_nano_rw_256": "aten.view", "coatnet_nano_rw_224": "aten.view", "pvt_v2_b0": "aten.view",
    "convit_tiny": "aten.view", "davit_tiny": "aten.view", "gcresnet33ts": "aten.view", "botnet26t_256": "aten.view",
    "mobilevitv2_050": "aten.view",
}  # fmt: skip

#: torchvision's classification models below 100M parameters (the giants cost minutes on 2 cores)
TORCHVISION = [
    "alexnet", "convnext_tiny", "convnext_small", "densenet121", "densenet161", "densenet169", "densenet201",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4", "efficientnet_b5",
    "efficientnet_b6", "efficientnet_v2_s", "efficientnet_v2_m", "googlenet", "inception_v3", "maxvit_t", "mnasnet0_5",
    "mnasnet0_75", "mnasnet1_0", "mnasnet1_3", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
    "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf", "regnet_x_16gf",
    "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_y_8gf", "resnet18", "resnet34",
    "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "squeezenet1_0",
    "squeezenet1_1", "swin_t", "swin_v2_t", "vit_b_16", "vit_b_32", "wide_resnet50_2", "wide_resnet101_2",
]  # fmt: skip
#: segmentation models (dict outputs: ``out``, ``aux``) and detection backbones with their FPN
TORCHVISION_DENSE = ["fcn_resnet50", "deeplabv3_resnet50", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large",
                     "fasterrcnn_resnet50_fpn.backbone", "retinanet_resnet50_fpn.backbone",
                     "fasterrcnn_mobilenet_v3_large_fpn.backbone"]  # fmt: skip

#: timm architectures across its families
TIMM = [
    "resnet18", "resnet50", "resnet50d", "resnet26t", "seresnet50", "seresnext26d_32x4d", "ecaresnet26t", "resnetrs50",
    "resnest14d", "resnest26d", "res2net50_14w_8s", "res2next50", "skresnet18", "skresnext50_32x4d", "regnetx_002",
    "regnety_002", "regnetz_b16", "efficientnet_b0", "efficientnet_b1", "tf_efficientnet_b0", "tf_efficientnet_lite0",
    "efficientnetv2_rw_t", "tf_efficientnetv2_b0", "mixnet_s", "tf_mixnet_s", "mobilenetv2_100", "mobilenetv3_small_100",
    "mobilenetv3_large_100", "tf_mobilenetv3_small_100", "mobilenetv4_conv_small", "mnasnet_100", "semnasnet_100",
    "spnasnet_100", "fbnetc_100", "fbnetv3_b", "lcnet_050", "hardcorenas_a", "tinynet_a", "tinynet_e", "ghostnet_100",
    "rexnet_100", "rexnetr_100", "dla34", "dla46_c", "dla60x_c", "dpn68", "hrnet_w18_small", "hrnet_w18_small_v2",
    "vovnet39a", "ese_vovnet19b_dw", "cspresnet50", "cspdarknet53", "darknet53", "cs3darknet_s", "densenet121",
    "inception_v3", "inception_v4", "inception_resnet_v2", "xception41", "legacy_xception", "repvgg_a0", "repvgg_b0",
    "mobileone_s0", "fastvit_t8", "nfnet_l0", "dm_nfnet_f0", "nf_resnet26", "convnext_atto", "convnext_nano",
    "convnextv2_atto", "edgenext_xx_small", "efficientformer_l1", "mobilevit_xxs", "levit_128s", "poolformer_s12",
    "vit_tiny_patch16_224", "deit_tiny_patch16_224", "resnetv2_50", "resnetv2_50x1_bit", "gernet_s", "selecsls42b",
    "regnetv_040", "repvit_m1", "hgnet_tiny", "hgnetv2_b0", "ghostnetv2_100", "efficientvit_b0", "efficientvit_m0",
    "tiny_vit_5m_224", "inception_next_tiny", "rdnet_tiny", "starnet_s1", "mixer_b16_224", "resmlp_12_224",
    "swin_tiny_patch4_window7_224", "maxvit_nano_rw_256", "coatnet_nano_rw_224", "pvt_v2_b0", "convit_tiny",
    "davit_tiny", "gcresnet33ts", "botnet26t_256", "mobilevitv2_050",
]  # fmt: skip

#: the default (local) tier: one of each route a real model takes, fast
QUICK = [("torchvision", "resnet18"), ("torchvision", "mobilenet_v3_small"), ("timm", "tf_efficientnet_lite0")]


def build(source: str, name: str) -> tuple[Any, tuple[int, ...]]:
    """(the model in eval mode, one sample's shape) for a torchvision or timm architecture, with
    random weights (nothing downloaded). ``model.part`` takes a submodule (a detector's backbone)."""
    warnings.filterwarnings("ignore")  # torchvision's and timm's deprecation and init warnings
    name, _, part = name.partition(".")
    if source == "timm":
        import timm

        model = timm.create_model(name, pretrained=False)
        shape = tuple(getattr(model, "pretrained_cfg", {}).get("input_size", (3, 224, 224)))
    else:
        import torchvision.models as tv
        from torchvision.models import detection, segmentation

        for module in (tv, segmentation, detection):
            if hasattr(module, name):
                kwargs: dict[str, Any] = {"weights": None}
                if module is detection:
                    kwargs["weights_backbone"] = None
                elif module is segmentation:
                    kwargs["weights_backbone"] = None
                    kwargs["aux_loss"] = name != "lraspp_mobilenet_v3_large"
                model = getattr(module, name)(**kwargs)
                break
        else:
            raise KeyError(name)
        shape = (3, 299, 299) if name == "inception_v3" else (3, 224, 224)
        if part:
            model = getattr(model, part)
    return model.eval(), shape


def truth(model: Any, shape: tuple[int, ...]) -> tuple[int, int, list[tuple[int, ...]]]:
    """(params forward() reads, MACs = FlopCounterMode ÷ 2, the output shapes) by torch itself."""
    import torch
    from torch.utils._pytree import tree_flatten
    from torch.utils.flop_counter import FlopCounterMode

    read: set[int] = set()
    hooks = [m.register_forward_pre_hook(lambda mod, args: read.update(id(p) for p in mod.parameters(recurse=False)))
             for m in model.modules()]  # fmt: skip
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = model(torch.zeros(1, *shape))
    finally:
        for hook in hooks:
            hook.remove()
    params = sum(p.numel() for p in model.parameters() if id(p) in read)
    flat, _ = tree_flatten(out)
    return params, counter.get_total_flops() // 2, [tuple(t.shape[1:]) for t in flat if isinstance(t, torch.Tensor)]


def imported(model: Any, shape: tuple[int, ...]) -> tuple[int, int, list[tuple[int, ...]]]:
    """(params, MACs, output shapes) of the model imported by convcost, analysed."""
    from convcost.analysis.report import analyze
    from convcost.interop.aten_ops import read
    from convcost.interop.read import to_yaml
    from convcost.yamlio.spec import loads

    report = analyze(loads(to_yaml(read(model, shape), "model", "")))
    outputs = [tuple(o.shape) for o in report.totals.outputs] if report.totals.outputs else [tuple(report.layers[-1].output)]
    return report.totals.params, report.totals.macs, outputs


def googlenet() -> Any:
    """torchvision's GoogLeNet, whose auxiliary classifiers eval mode never runs."""
    return build("torchvision", "googlenet")[0]
