"""config: YAML loading, --set overrides, validation messages, dump round trip."""

import copy
from pathlib import Path

import pytest
import yaml

from initlab.errors import InitlabError
from initlab.experiments import config

from conftest import capped_message

ALL_CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))
SWEEPS = [p for p in ALL_CONFIGS if "grid" in yaml.safe_load(p.read_text())]
CONFIGS = [p for p in ALL_CONFIGS if p not in SWEEPS]  # experiment and probe files

BASE = {
    "name": "t",
    "dataset": {"name": "xor"},
    "model": {"layers": [2, 4, 1], "activations": ["tanh", "sigmoid"]},
    "train": {"epochs": 3, "lr": 0.1},
}


def base():
    return copy.deepcopy(BASE)


def error_of(data, source="exp.yaml"):
    with pytest.raises(InitlabError) as err:
        config.validate(data, source)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(source)
    return msg


def write(tmp_path, text, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- unknown / missing

@pytest.mark.parametrize(("section", "bad", "good"), [
    (None, "sed", "seed"), ("train", "optimiser", "optimizer"), ("train", "log_evry", "log_every"),
    ("model", "biass", "bias"), ("init", "weight", "weights"),
])
def test_unknown_optional_key_is_rejected_with_suggestion(section, bad, good):
    data = base()
    (data if section is None else data.setdefault(section, {}))[bad] = 1
    msg = error_of(data)
    dotted = bad if section is None else f"{section}.{bad}"
    right = good if section is None else f"{section}.{good}"
    assert f"unknown key '{dotted}'" in msg
    assert f"did you mean '{right}'" in msg


@pytest.mark.parametrize("dotted", ["train.weight_decay", "train.scheduler", "train.nesterov",
                                    "model.norm", "train.zzzzqq"])
def test_unknown_key_without_close_match_has_no_suggestion(dotted):
    """No valid key is close to these: a suggestion (e.g. 'train.beta2' for weight_decay, driven
    by the shared 'train.' prefix) would mislead."""
    section, leaf = dotted.split(".")
    data = base()
    data[section][leaf] = 1
    msg = error_of(data)
    assert f"unknown key '{dotted}'" in msg
    assert "did you mean" not in msg, msg


@pytest.mark.parametrize(("section", "bad", "good"), [
    ("train", "lrr", "lr"), ("train", "epoch", "epochs"), ("model", "layer", "layers"),
])
def test_misspelled_required_key_is_named_with_suggestion(section, bad, good):
    """A typo in a required key is an unknown key: the message must name it and suggest the
    right one, not only report the correct key as missing."""
    data = base()
    data[section][bad] = data[section].pop(good)
    msg = error_of(data)
    assert f"'{section}.{bad}'" in msg
    assert f"did you mean '{section}.{good}'" in msg


@pytest.mark.parametrize(("drop", "expected"), [
    (("train", "epochs"), "train.epochs"), (("train", "lr"), "train.lr"),
    (("model", "layers"), "model.layers"), (("dataset", "name"), "dataset.name"),
    (("train",), "train"), (("dataset",), "dataset"),
])
def test_missing_required_key_is_named(drop, expected):
    data = base()
    node = data
    for part in drop[:-1]:
        node = node[part]
    del node[drop[-1]]
    assert f"missing key '{expected}'" in error_of(data)


def test_empty_file_names_a_missing_key_and_defaults_name_to_stem(tmp_path):
    path = write(tmp_path, "", "my_run.yaml")
    with pytest.raises(InitlabError, match=r"missing key 'dataset'"):
        config.load(path)
    ok = write(tmp_path, yaml.safe_dump({k: v for k, v in BASE.items() if k != "name"}),
               "my_run.yaml")
    assert config.load(ok).name == "my_run"


def test_missing_file_and_non_mapping_file(tmp_path):
    with pytest.raises(InitlabError, match="experiment file not found"):
        config.load(tmp_path / "nope.yaml")
    with pytest.raises(InitlabError, match="must be a mapping.*not a list"):
        config.load(write(tmp_path, "- 1\n- 2\n"))


# ----------------------------------------------------------------------------- --set overrides

def test_set_parses_yaml_values():
    data = base()
    config.apply_override(data, "model.layers=[2, 8, 3, 1]")
    config.apply_override(data, "model.activations=[relu, relu, sigmoid]")
    config.apply_override(data, "train.lr=0.05")
    config.apply_override(data, "train.epochs=7")
    config.apply_override(data, "model.bias=false")
    config.apply_override(data, "init.weights=he")
    config.apply_override(data, "dataset.noise=")
    assert data["model"]["layers"] == [2, 8, 3, 1]
    assert data["model"]["activations"] == ["relu", "relu", "sigmoid"]
    assert data["train"]["lr"] == 0.05 and isinstance(data["train"]["lr"], float)
    assert data["train"]["epochs"] == 7 and isinstance(data["train"]["epochs"], int)
    assert data["model"]["bias"] is False
    assert data["init"]["weights"] == "he"
    assert data["dataset"]["noise"] is None
    del data["dataset"]["noise"]  # xor has no noise: the data set's own model would refuse it
    exp = config.validate(data, "x")
    assert exp.model.layers == [2, 8, 3, 1] and exp.train.lr == 0.05 and exp.model.bias is False


def test_set_scientific_lr_without_dot_becomes_float(tmp_path):
    path = write(tmp_path, yaml.safe_dump(BASE))
    exp = config.load(path, ["train.lr=1e-3", "train.eps=1e-6", "train.optimizer=adam"])
    assert exp.train.lr == 0.001 and isinstance(exp.train.lr, float)
    assert exp.train.eps == 1e-6
    assert exp.train.optimizer == "adam"


def test_set_mapping_value_and_later_overrides_win(tmp_path):
    path = write(tmp_path, yaml.safe_dump(BASE))
    exp = config.load(path, ["init.weights={name: normal, std: 0.5}", "train.lr=0.2",
                             "train.lr=0.3", "name=renamed"])
    assert exp.init.weights == {"name": "normal", "std": 0.5}
    assert exp.train.lr == 0.3 and exp.name == "renamed"


def test_set_creates_nested_mappings():
    data = {}
    config.apply_override(data, "a.b.c=3")
    config.apply_override(data, "a.b.d=x")
    config.apply_override(data, "a.e=[1]")
    assert data == {"a": {"b": {"c": 3, "d": "x"}, "e": [1]}}
    data = base()
    config.apply_override(data, "init.bias.name=constant")
    config.apply_override(data, "init.bias.value=0.1")
    assert config.validate(data, "x").init.bias == {"name": "constant", "value": 0.1}


def test_set_sub_key_of_a_scalar_is_an_error():
    data = base()
    with pytest.raises(InitlabError) as err:
        config.apply_override(data, "train.lr.value=3")
    msg = str(err.value)
    assert "train.lr.value" in msg and "'train.lr' is 0.1" in msg and "not a mapping" in msg
    assert data["train"]["lr"] == 0.1  # untouched
    with pytest.raises(InitlabError, match=r"'name' is 't', not a mapping"):
        config.apply_override(data, "name.first=x")


@pytest.mark.parametrize("bad", ["train.lr", "=3", " =3", ""])
def test_set_without_key_or_equals_is_an_error(bad):
    with pytest.raises(InitlabError, match="--set expects key.path=value"):
        config.apply_override(base(), bad)


def test_set_unparsable_yaml_value_is_kept_as_text():
    data = base()
    config.apply_override(data, "dataset.label=a: b: c")
    assert data["dataset"]["label"] == "a: b: c"


# ----------------------------------------------------------------------------- malformed YAML

def yaml_error(tmp_path, text):
    with pytest.raises(InitlabError) as err:
        config.load(write(tmp_path, text))
    return str(err.value)


def test_malformed_yaml_names_line_and_column(tmp_path):
    lines = ["name: demo", "seed: 1", "train: lr: 0.1"]
    # the offending token is the second ':' on line 3
    col = lines[2].index(":", lines[2].index(":") + 1) + 1
    msg = yaml_error(tmp_path, "\n".join(lines) + "\n")
    assert f"line 3, column {col}" in msg
    assert col == 10  # 'train: lr: 0.1'
    assert "malformed YAML" in msg and "exp.yaml" in msg and "\n" not in msg


def test_malformed_flow_sequence_names_line_and_column(tmp_path):
    text = "model:\n  layers: [2, 4\n  bias: true\n"
    # the unclosed '[' is noticed at the ':' after 'bias' on line 3
    col = text.splitlines()[2].index(":") + 1
    assert f"line 3, column {col}" in yaml_error(tmp_path, text)


def test_tab_indentation_names_line_and_column(tmp_path):
    text = "name: x\ntrain:\n\tlr: 1\n"
    assert "line 3, column 1" in yaml_error(tmp_path, text)


# ----------------------------------------------------------------------------- model / train rules

def test_activations_layers_length_mismatch_message():
    data = base()
    data["model"]["activations"] = ["tanh"]
    msg = error_of(data)
    assert "model.activations has 1 entries" in msg
    assert "[2, 4, 1] has 2 weight layers" in msg
    data["model"]["activations"] = ["tanh", "tanh", "sigmoid"]
    assert "model.activations has 3 entries" in error_of(data)


def test_layer_sizes_must_be_positive():
    data = base()
    data["model"]["layers"] = [2, 0, 1]
    assert "'model.layers.1': must be an integer >= 1 (got 0)" in error_of(data)


def test_gd_with_batch_size_is_rejected():
    data = base()
    data["train"]["batch_size"] = 8
    msg = error_of(data)
    assert "optimizer gd is full-batch" in msg and "sgd" in msg
    with pytest.raises(ValueError, match="full-batch"):
        config.TrainSection(epochs=1, lr=0.1, optimizer="gd", batch_size=4)


def test_sgd_defaults_batch_size_32_and_keeps_explicit():
    assert config.TrainSection(epochs=1, lr=0.1, optimizer="sgd").batch_size == 32
    assert config.TrainSection(epochs=1, lr=0.1, optimizer="sgd", batch_size=5).batch_size == 5
    assert config.TrainSection(epochs=1, lr=0.1).batch_size is None  # gd: full batch
    assert config.TrainSection(epochs=1, lr=0.1, optimizer="adam").batch_size is None
    data = base()
    data["train"]["optimizer"] = "sgd"
    assert config.validate(data, "x").train.batch_size == 32


@pytest.mark.parametrize(("key", "value", "text"), [
    ("lr", 0, "must be a number > 0"), ("epochs", 0, "must be an integer >= 1"),
    ("optimizer", "rmsprop", "must be one of gd, sgd, momentum, adam"),
    ("loss", "mse", "must be one of bce, quadratic, softmax_ce"),
    ("momentum", 1.0, "must be a number < 1"), ("lr", float("inf"), "finite"),
    ("epochs", True, "an integer"), ("log_every", 2.5, "an integer"),
])
def test_bad_train_values_name_the_key_and_the_value(key, value, text):
    data = base()
    data["train"][key] = value
    msg = error_of(data)
    assert f"'train.{key}'" in msg and text in msg and repr(value) in msg


def test_train_section_defaults():
    t = config.TrainSection(epochs=2, lr=0.5)
    assert (t.optimizer, t.loss, t.momentum, t.beta1, t.beta2, t.eps, t.log_every,
            t.data_seed) == ("gd", "bce", 0.9, 0.9, 0.999, 1e-8, 1000, 0)


# ----------------------------------------------------------------------------- dump

@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_dump_round_trips_every_repo_config(path):
    schema = config.ProbeConfig if path.stem.endswith("_probe") else config.RunConfig
    exp = config.load(path, schema=schema)
    text = config.dump(exp)
    again = config.validate(yaml.safe_load(text), "dumped", schema)
    assert again == exp
    assert config.dump(again) == text


def test_dump_round_trips_overrides_and_extras(tmp_path):
    path = write(tmp_path, yaml.safe_dump(BASE))
    exp = config.load(path, ["train.optimizer=sgd", "train.lr=1e-3", "train.eps=1e-12",
                             "dataset.name=circles", "dataset.noise=0.25", "dataset.n_train=100",
                             "init.weights={name: "
                             "normal, std: 0.01}", "model.activations=[{name: leaky_relu, "
                             "slope: 0.2}, sigmoid]", "dtype=float32"])
    reloaded = config.load(write(tmp_path, config.dump(exp), "dumped.yaml"))
    assert reloaded == exp
    assert reloaded.train.batch_size == 32 and reloaded.train.eps == 1e-12
    assert reloaded.dataset.params() == {"noise": 0.25, "n_train": 100}


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_shipped_sweeps_load_and_are_refused_by_run_in_one_line(path):
    from initlab.experiments import sweep as sweep_file

    assert len(sweep_file.load(path).points) >= 2
    with pytest.raises(InitlabError, match="is a sweep file .* initlab sweep"):
        config.load(path)


def test_repo_configs_exist_and_load():
    assert len(CONFIGS) >= 5
    for path in CONFIGS:
        if path.stem.endswith("_probe"):
            assert config.load(path, schema=config.ProbeConfig).depth >= 1
            continue
        exp = config.load(path)
        assert exp.name and len(exp.model.activations) == len(exp.model.layers) - 1


# ----------------------------------------------------------------------------- registries

@pytest.mark.parametrize(("key", "value", "words"), [
    ("dataset", {"name": "circles", "nosie": 0.1}, ["'dataset'", "'nosie'", "'noise'"]),
    ("dataset", {"name": "circlez"}, ["'dataset'", "unknown dataset 'circlez'", "'circles'"]),
    ("dataset", {"name": "circles", "noise": -1}, ["'noise'", "must be a number >= 0"]),
    ("init.weights", "hee", ["'init.weights'", "unknown initializer 'hee'", "'he'"]),
    ("init.weights", "normal(std=0)", ["'init.weights'", "'std'", "> 0"]),
    ("init.bias", {"name": "uniform", "low": 1, "high": 0}, ["'init.bias'", "< 'high'"]),
    ("model.activations", ["relu", "relux"], ["'model.activations.1'", "'relu'"]),
    ("model.activations", ["leaky_relu(slope=x)", "sigmoid"], ["'slope'", "number"]),
    ("seed", 2**32, ["'seed'", "2^32"]),
])
def test_registry_names_and_parameters_are_checked_when_the_file_is_read(key, value, words):
    data = base()
    data["rng"] = "legacy"
    config.apply_override(data, f"{key}={yaml.safe_dump(value, default_flow_style=True)}")
    msg = error_of(data)
    assert all(w in msg for w in words), msg


def test_explicit_values_and_parameterised_specs_pass_and_keep_their_form():
    data = base()
    data["init"] = {"weights": {"values": [[[1, 2]] * 4, [[1, 1, 1, 1]]]},
                    "bias": "constant(value=0.1)"}
    data["model"]["activations"] = ["leaky_relu(slope=0.2)", "sigmoid"]
    exp = config.validate(data, "x")
    assert exp.init.bias == "constant(value=0.1)"
    assert exp.model.activations[0] == "leaky_relu(slope=0.2)"


def _find(schema, key):
    """The sub-schema of a property, following $ref."""
    node = schema["properties"][key]
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_json_schema_lists_every_name_with_its_parameters():
    from initlab.engine.activations import ACTIVATION_NAMES
    from initlab.experiments.datasets import DATASET_NAMES
    from initlab.inits.laws import INITIALIZER_NAMES

    schema = config.schema()
    assert "name" not in schema.get("required", [])
    init = _find(schema, "init")
    weights = init["properties"]["weights"]["anyOf"]
    assert set(weights[0]["enum"]) == set(INITIALIZER_NAMES)
    normal = next(s for s in weights if s.get("title") == "normal")
    assert normal["properties"]["std"]["exclusiveMinimum"] == 0
    assert normal["properties"]["std"]["default"] == 1.0
    random = next(s for s in weights if s.get("title") == "random")
    assert random["properties"]["std"]["default"] == 10.0  # the alias's preset
    dataset = _find(schema, "dataset")["anyOf"]
    assert {s["properties"]["name"]["const"] for s in dataset} == set(DATASET_NAMES)
    circles = next(s for s in dataset if s["title"] == "circles")
    assert circles["properties"]["n_train"]["minimum"] == 1
    assert circles["additionalProperties"] is False
    acts = _find(schema, "model")["properties"]["activations"]["items"]["anyOf"]
    assert set(acts[0]["enum"]) == set(ACTIVATION_NAMES)
    probe = config.schema(config.ProbeConfig)
    assert "gaussian" in [s.get("const") for s in probe["properties"]["input"]["anyOf"]]


# ------------------------------------------------ hostile input: one line, quickly, bounded memory

def _bomb(levels: int = 9) -> str:
    """A "billion laughs": 9 ** levels x's from a few hundred bytes."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _capped_load(path: Path) -> str:
    """config.load(path) under a 1 GiB address-space cap: its one-line message."""
    return capped_message(f"config.load({str(path)!r})")


def test_alias_bomb_is_refused_with_bounded_memory(tmp_path):
    # as a data-set parameter the bomb would be validated, and quoted in the message
    text = _bomb() + "dataset: {name: circles, noise: *i}\n" + yaml.safe_dump(
        {k: v for k, v in BASE.items() if k != "dataset"})
    msg = _capped_load(write(tmp_path, text))
    assert msg.startswith(f"malformed YAML in {tmp_path / 'exp.yaml'} at line ")
    assert str(config.YAML_MAX_ALIAS_NODES) in msg and "limit" in msg


def test_alias_limits(tmp_path):
    many = "".join(f"k{i}: *a\n" for i in range(config.YAML_MAX_ALIASES + 1))
    msg = yaml_error(tmp_path, "a: &a 1\n" + many)
    assert f"more than {config.YAML_MAX_ALIASES} aliases" in msg
    assert f"line {config.YAML_MAX_ALIASES + 2}," in msg
    msg = yaml_error(tmp_path, "a: &a [1, *a]\n")
    assert "cycle" in msg and "line 1, column 11" in msg
    deep = "[" * 40 + "1" + "]" * 40
    msg = yaml_error(tmp_path, f"a: &a {deep}\nb: {'[' * 30}*a{']' * 30}\n")
    assert f"deeper than {config.YAML_MAX_DEPTH}" in msg and "line 2" in msg
    assert "undefined alias" in yaml_error(tmp_path, "a: *nope\n")
    # ordinary aliases and merge keys, well inside the limits, still work
    text = ("seed: &two 2\nname: t\ndataset: {name: xor}\n"
            "model: {layers: [*two, 4, 1], activations: [&act tanh, sigmoid]}\n"
            "init: {weights: he}\ntrain: {<<: {epochs: 3, lr: 0.1}, log_every: *two}\n")
    cfg = config.load(write(tmp_path, text))
    assert cfg.model.layers == [2, 4, 1] and cfg.train.epochs == 3 and cfg.train.log_every == 2
    at_limit = "a: &a [1, 2]\n" + "".join(f"k{i}: *a\n" for i in range(config.YAML_MAX_ALIASES))
    assert config.parse_yaml(at_limit, "x")["k999"] == [1, 2]


@pytest.mark.parametrize("text", [
    "x: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "x: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n",
    "".join(" " * i + f"k{i}:\n" for i in range(3000)) + " " * 3000 + "v\n",
    "".join("  " * i + "-\n" for i in range(3000)) + "  " * 3000 + "- 1\n",
], ids=["flow-lists", "flow-maps", "block-maps", "block-lists"])
def test_deep_nesting_is_one_line_not_recursion_error(tmp_path, text):
    msg = yaml_error(tmp_path, text)
    assert "\n" not in msg and msg.startswith("malformed YAML in")
    assert f"nesting deeper than {config.YAML_MAX_DEPTH} levels" in msg
    ok = "name: t\nx: " + "[" * (config.YAML_MAX_DEPTH - 1) + "]" * (config.YAML_MAX_DEPTH - 1)
    assert config.read(write(tmp_path, ok + "\n"))["name"] == "t"


@pytest.mark.parametrize("data, offset", [
    ("name: caf\xe9\n".encode("latin-1"), 9),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", 0),
    ("seed: 1\n".encode("utf-16"), 0),
])
def test_not_utf8_is_one_line_with_offset(tmp_path, data, offset):
    path = tmp_path / "bin.yaml"
    path.write_bytes(data)
    with pytest.raises(InitlabError) as err:
        config.read(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and "not UTF-8" in msg
    assert f"offset {offset}" in msg


def test_nul_and_control_characters_are_one_line(tmp_path):
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"name: x\x00y\n")
    with pytest.raises(InitlabError, match=r"not a text file \(NUL byte at offset 7\)"):
        config.read(path)
    msg = yaml_error(tmp_path, "name: x\nseed: \x07\n")
    assert "line 2, column 7" in msg and "#x0007" in msg and "\n" not in msg


def test_file_larger_than_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    with path.open("wb") as fh:
        fh.truncate(config.CONFIG_MAX_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(InitlabError) as err:
        config.read(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg
    assert f"{config.CONFIG_MAX_BYTES + 1} bytes" in msg and "CONFIG_MAX_BYTES" in msg


def test_folder_and_missing_file(tmp_path):
    (tmp_path / "exp.yaml").mkdir()
    with pytest.raises(InitlabError, match=r"exp.yaml is a folder, not a YAML file$"):
        config.load(tmp_path / "exp.yaml")
    with pytest.raises(InitlabError, match=r"^experiment file not found: .*nope.yaml$"):
        config.load(tmp_path / "no" / "nope.yaml")


def test_unconvertible_scalars_name_their_line(tmp_path):
    msg = yaml_error(tmp_path, "name: t\nseed: " + "9" * 5000 + "\n")
    assert "line 2, column 7" in msg and "4300" in msg and len(msg) < 300
    msg = yaml_error(tmp_path, "when: !!timestamp 2001-99-99\n")
    assert "line 1" in msg and "month" in msg
    msg = yaml_error(tmp_path, "a: !" + "t" * 10_000 + " x\n")
    assert "line 1" in msg and len(msg) < 300


class _Counted:
    """Counts how often it is repr'd."""

    calls = 0

    def __repr__(self) -> str:
        _Counted.calls += 1
        return "c"


def test_shown_is_bounded_for_huge_values():
    from initlab.errors import SHOWN_CHARS, shown

    _Counted.calls = 0
    text = shown([_Counted()] * 10**6)
    assert len(text) <= SHOWN_CHARS and text.startswith("[c, c") and text.endswith("…]")
    assert _Counted.calls < 20  # not a repr of the whole list
    _Counted.calls = 0
    assert len(shown({i: _Counted() for i in range(10**6)})) <= SHOWN_CHARS
    assert len(shown({_Counted(): 1 for _ in range(10**5)})) <= SHOWN_CHARS
    assert _Counted.calls < 20
    assert len(shown("x" * 10**7)) == SHOWN_CHARS
    assert len(shown(b"x" * 10**7)) == SHOWN_CHARS
    assert "digits" in shown(10**5000) and len(shown(10**5000)) <= SHOWN_CHARS
    assert shown("circle") == "'circle'" and shown(0.5) == "0.5" and shown(None) == "None"
    assert shown([1, "a"]) == "[1, 'a']" and shown({"a": 1}) == "{'a': 1}"


def test_shown_on_deeply_nested_and_cyclic_values():
    from initlab.errors import SHOWN_CHARS, shown

    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    text = shown(deep)
    assert text.startswith("[[[") and len(text) <= SHOWN_CHARS
    deep_map: dict = {}
    for _ in range(10_000):
        deep_map = {"k": deep_map}
    assert len(shown(deep_map)) <= SHOWN_CHARS
    cyclic: list = [1]
    cyclic.append(cyclic)
    assert shown(cyclic).startswith("[1, [1, ")


def test_shown_is_one_line_for_multi_line_reprs():
    import numpy as np

    from initlab.errors import SHOWN_CHARS, shown

    text = shown(np.zeros((1000, 1000)))
    assert "\n" not in text and len(text) <= SHOWN_CHARS
