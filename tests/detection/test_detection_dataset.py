"""Dataset: split by field, normalisation from training data only, augmentation alignment."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.detection.augment import ChipArrays, augment_chip, dihedral, shift_band
from pipeline.detection.classes import IGNORE
from pipeline.detection.dataset import chip_arrays, cut_chips, fit_normalisation, majority_field, split_by_field
from pipeline.detection.scenes import load_labelled_scene
from pipeline.detection.train import Trainer, load_scenes

BANDS = ("blue", "green", "red", "nir", "red_edge")


def test_labelled_scene_rasterises_fields_and_labels(toy_surveys):
    scene = load_labelled_scene(toy_surveys[0], BANDS)
    assert scene.labels.shape == scene.crops.shape == scene.field_index.shape == scene.stack.shape[1:]
    assert len(scene.fields) == 9
    assert set(np.unique(scene.field_index)) == set(range(10))
    # nodata corner is ignored; outside fields is background
    assert scene.labels[0, 0] == IGNORE
    assert np.all(scene.labels[(scene.field_index == 0) & (scene.labels != IGNORE)] == 0)
    # rice fields hold only rice classes, ginger fields only ginger classes
    assert set(np.unique(scene.labels[scene.crops == 1])) <= {1, 2, 3, 4, IGNORE}
    assert set(np.unique(scene.labels[scene.crops == 2])) <= {5, 6, 7, IGNORE}


def test_majority_field():
    block = np.zeros((4, 4), np.int32)
    block[:, :3] = 2
    block[:, 3] = 5
    assert majority_field(block) == 2
    assert majority_field(np.zeros((3, 3), np.int32)) == 0


def test_split_is_by_field_and_never_shares_a_field(toy_surveys):
    scenes = [load_labelled_scene(p, BANDS) for p in toy_surveys[:2]]
    chips = cut_chips(scenes, 64, 32)
    split = split_by_field(scenes, chips, 0.3, np.random.default_rng(0))
    assert split.train and split.val
    assert not split.train_fields & split.val_fields
    assert {c.field for c in split.train}.isdisjoint({c.field for c in split.val})
    # no pixel of a validation field is visible (un-ignored) in a training chip, and vice versa
    for side_chips, side, other in ((split.train, split.train_fields, split.val_fields),
                                    (split.val, split.val_fields, split.train_fields)):
        for chip in side_chips:
            arrays = chip_arrays(scenes, chip, 64, side)
            fidx = scenes[chip.scene].field_index[chip.row : chip.row + 64, chip.col : chip.col + 64]
            for s, f in other:
                if s == chip.scene:
                    assert np.all(arrays.labels[fidx == f] == IGNORE)


def test_normalisation_uses_training_chips_only(toy_surveys, small_cfg):
    scenes = load_scenes(toy_surveys[:2], small_cfg.bands)
    trainer = Trainer(scenes, small_cfg)
    expected = fit_normalisation([trainer._chip(c, True) for c in trainer.split.train], small_cfg.bands,
                                 small_cfg.indices, small_cfg.relative_indices)
    assert trainer.norm == expected
    # make validation fields wildly brighter: the statistics must not move
    brighter = []
    for s, scene in enumerate(scenes):
        stack = scene.stack.copy()
        for ss, f in trainer.split.val_fields:
            if ss == s:
                stack[:, scene.field_index == f] *= 5.0
        brighter.append(dataclasses.replace(scene, stack=stack))
    again = Trainer(brighter, small_cfg)
    assert again.split.val_fields == trainer.split.val_fields
    np.testing.assert_allclose(again.norm.mean, trainer.norm.mean, rtol=1e-9)
    np.testing.assert_allclose(again.norm.std, trainer.norm.std, rtol=1e-9)


def _coded_chip(rng):
    labels = rng.integers(0, 8, size=(16, 16)).astype(np.uint8)
    bands = np.stack([labels.astype(np.float32) + 1.0] * 5)
    crops = (labels % 3).astype(np.uint8)
    return ChipArrays(bands, labels, crops)


def test_augmentations_keep_labels_aligned():
    rng = np.random.default_rng(3)
    chip = _coded_chip(rng)
    for k in range(8):
        out = dihedral(chip.bands, k)
        np.testing.assert_array_equal(out[0] - 1.0, dihedral(chip.labels, k))
    for _ in range(20):
        aug = augment_chip(chip, rng, brightness_range=0.2, misregistration_prob=1.0)
        # every band is (labels + 1) * gain, except one band shifted by one pixel
        gains = aug.bands / (aug.labels.astype(np.float32) + 1.0)
        exact = [np.allclose(gains[b], gains[b].flat[0]) for b in range(5)]
        assert sum(exact) >= 4
        gain = float(np.median(gains))
        assert 0.8 - 1e-6 <= gain <= 1.2 + 1e-6
        np.testing.assert_array_equal(aug.crops, (aug.labels % 3).astype(np.uint8))


def test_shift_band_moves_one_pixel():
    band = np.arange(25, dtype=np.float32).reshape(5, 5)
    moved = shift_band(band, 1, 0)
    np.testing.assert_array_equal(moved[1:], band[:-1])
    np.testing.assert_array_equal(moved[0], band[0])
    np.testing.assert_array_equal(shift_band(band, 0, -1)[:, :-1], band[:, 1:])


def test_class_weights_favour_rare_classes_and_oversampling():
    from pipeline.detection.dataset import Chip, class_weights, sampling_order

    labels = np.zeros((10, 10), np.uint8)
    labels[:5] = 1
    labels[0, 0] = 2
    labels[9, 9] = IGNORE
    w = class_weights([labels], max_weight=5.0)
    assert w[2] > w[1] >= w[0] * 0.5 and w.max() <= 5.0 and w[3] == 1.0
    chips = [Chip(0, 0, 0, (0, 1), i == 0) for i in range(10)]
    order = sampling_order(chips, 9.0, np.random.default_rng(0), 2000)
    assert 0.4 < np.mean(order == 0) < 0.6  # 9 / (9 + 9) of the draws


def test_field_median_table_and_relative_features():
    from pipeline.detection.features import compute_features, field_median_table

    stack = np.full((5, 4, 4), 0.1, np.float32)
    stack[3] = 0.5  # nir
    stack[3, :, 2:] = 0.3
    fidx = np.zeros((4, 4), np.int32)
    fidx[:, 2:] = 1
    table = field_median_table(stack, BANDS, ("ndvi",), fidx, 2)
    assert table.shape == (3, 1)
    np.testing.assert_allclose(table[0, 0], (0.5 - 0.1) / 0.6, rtol=1e-6)
    np.testing.assert_allclose(table[1, 0], (0.3 - 0.1) / 0.4, rtol=1e-6)
    assert table[2, 0] == table[0, 0]  # a field without pixels falls back to row 0
    feats = compute_features(stack, BANDS, ("ndvi",), ("ndvi",), table[fidx].transpose(2, 0, 1))
    assert feats.shape == (7, 4, 4)
    np.testing.assert_allclose(feats[-1], 0.0, atol=1e-6)  # every pixel equals its field's median


def test_torchvision_dihedral_matches_numpy_symmetries_on_image_and_masks_jointly():
    from pipeline.detection.augment import dihedral_chip

    rng = np.random.default_rng(5)
    chip = _coded_chip(rng)
    chip = ChipArrays(chip.bands, chip.labels, chip.crops, reference=chip.bands[:2] * 2.0)
    for k in range(8):
        expect = np.rot90(chip.labels, k % 4)
        expect = np.flip(expect, -1) if k >= 4 else expect
        out = dihedral_chip(chip, k)
        np.testing.assert_array_equal(out.labels, expect)
        np.testing.assert_array_equal(out.bands[0] - 1.0, out.labels)
        np.testing.assert_array_equal(out.reference[1], out.bands[0] * 2.0)
        np.testing.assert_array_equal(out.crops, (out.labels % 3).astype(np.uint8))
        assert out.labels.dtype == np.uint8 and out.bands.dtype == np.float32
    assert len({dihedral_chip(chip, k).labels.tobytes() for k in range(8)}) == 8  # 8 distinct symmetries
