"""A compact U-Net for multispectral disease segmentation, and crop masking of logits.

The encoder starts with a 4×4 stride-4 convolution, so the network works at
1/4 resolution and below (at 10 cm GSD a 1 m lesion cluster is still 2–3
quarter-res pixels; labelled patches are metres across), and a 1×1
convolution of the full-resolution input is added to the upsampled logits to
keep per-pixel spectra and field edges sharp. This keeps CPU inference cheap
(≈ 1.2 k multiply-adds per pixel at width 16, ≈ 2.5 k at the default 24).

Crop masking: a pixel's crop code (0 outside fields, 1 rice, 2 ginger, 3
unknown) selects the classes it may take; the others get a logit of −10⁴
before the softmax, in training (the loss) and at inference, so a rice pixel is
never called a ginger disease.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from pipeline.detection.classes import allowed_table

MASKED_LOGIT = -1.0e4


def _cbr(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    pad = kernel // 2 if stride == 1 else 0
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride=stride, padding=pad, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class CompactUNet(nn.Module):
    """Three-level U-Net on a 4×4 stride-4 stem, additive skips, and a full-resolution 1×1 head.

    Levels work at 1/4, 1/8 and 1/16 resolution with widths ``C, 2C, 3C``;
    decoder levels add the 1×1-projected upsampled coarser level to the skip
    and apply one 3×3 convolution. Logits are the bilinear ×4 upsampled coarse
    logits plus a 1×1 convolution of the input (per-pixel spectra keep edges
    sharp). About ``1.2k`` multiply-adds per input pixel at ``C = 16``.

    Args:
        in_channels: Input feature channels (bands + indices).
        n_classes: Output classes.
        base: Width ``C`` of the first level.

    Input height and width must be multiples of 16.
    """

    def __init__(self, in_channels: int, n_classes: int, base: int = 16) -> None:
        super().__init__()
        c1, c2, c3 = base, 2 * base, 3 * base
        self.stem = _cbr(in_channels, c1, kernel=4, stride=4)
        self.enc1 = _cbr(c1, c1)
        self.enc2 = nn.Sequential(_cbr(c1, c2), _cbr(c2, c2))
        self.enc3 = nn.Sequential(_cbr(c2, c3), _cbr(c3, c3))
        self.lat3 = nn.Conv2d(c3, c2, 1)
        self.dec2 = _cbr(c2, c2)
        self.lat2 = nn.Conv2d(c2, c1, 1)
        self.dec1 = _cbr(c1, c1)
        self.head = nn.Conv2d(c1, n_classes, 1)
        self.pixel_head = nn.Conv2d(in_channels, n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(self.stem(x))
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        d2 = self.dec2(F.interpolate(self.lat3(e3), scale_factor=2.0, mode="nearest") + e2)
        d1 = self.dec1(F.interpolate(self.lat2(d2), scale_factor=2.0, mode="nearest") + e1)
        logits = F.interpolate(self.head(d1), scale_factor=4.0, mode="bilinear", align_corners=False)
        return logits + self.pixel_head(x)


#: Architecture name to constructor ``(in_channels, n_classes, base) -> module`` (stored in the model card).
ARCHITECTURES = {"compact-unet": CompactUNet}


def build_model(architecture: str, in_channels: int, n_classes: int, base: int) -> nn.Module:
    """Instantiate a registered architecture (randomly initialised; nothing is downloaded)."""
    if architecture not in ARCHITECTURES:
        from pipeline.errors import unknown_name

        raise unknown_name("architecture", architecture, list(ARCHITECTURES))
    return ARCHITECTURES[architecture](in_channels, n_classes, base)


def mask_logits(logits: torch.Tensor, crops: torch.Tensor) -> torch.Tensor:
    """Set logits of classes impossible for each pixel's crop code to −10⁴.

    Args:
        logits: ``(N, K, H, W)``.
        crops: ``(N, H, W)`` integer crop codes.
    """
    table = torch.as_tensor(allowed_table().T.copy(), device=logits.device)  # (K, crop codes)
    allowed = table[:, crops.long()].transpose(0, 1)  # (N, K, H, W), gathered class-major
    return logits.masked_fill(~allowed, MASKED_LOGIT)


def fuse_for_inference(model: nn.Module) -> nn.Module:
    """Fold every Conv2d→BatchNorm2d pair of an eval-mode model into one convolution (same outputs, faster)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model.eval()
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            for i in range(len(module) - 1):
                conv, bn = module[i], module[i + 1]
                if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                    module[i] = fuse_conv_bn_eval(conv, bn)
                    module[i + 1] = nn.Identity()
    return model
