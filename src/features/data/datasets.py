"""Named raw datasets under ``data/raw``: find the synthetic default or generate it once.

May import the foundation modules and ``features.data.synth``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from features import config, defaults, schema
from features.data.synth import GENERATOR_VERSION, generate_dataset

DRIFT_SUFFIX = "_drift"


def synthetic_dataset_dir(n_customers: int, seed: int, drift: bool = False) -> Path:
    """Where the synthetic dataset with these parameters lives (``..._drift`` with the drift)."""
    name = defaults.synthetic_dataset_name(n_customers, seed) + (DRIFT_SUFFIX if drift else "")
    return config.raw_dir() / name


def _matches(
    folder: Path, n_customers: int, seed: int, start: str, end: str, drift: bool = False
) -> bool:
    try:
        manifest = json.loads((folder / schema.MANIFEST_FILE).read_text())
        params = manifest["parameters"]
    except (OSError, ValueError, KeyError):
        return False
    wanted = {"n_customers": n_customers, "seed": seed, "start": start, "end": end}
    same_generator = manifest.get("generator_version") == GENERATOR_VERSION
    same_drift = bool(params.get("drift", False)) == drift  # manifests without drift: off
    return (
        same_generator
        and same_drift
        and all(params.get(key) == value for key, value in wanted.items())
    )


def ensure_synthetic_dataset(
    n_customers: int,
    seed: int,
    start: str = defaults.SIM_START,
    end: str = defaults.SIM_END,
    drift: bool = False,
) -> Path:
    """Return the synthetic dataset folder, generating it first if it does not exist.

    ``drift`` asks for the dataset with the generator's planted drift (its own folder,
    ``synthetic_n<N>_s<seed>_drift``; see ``features.data.synth.generate_dataset``).

    Safe when two processes ask at once: each generates into its own temporary folder and
    the loser of the final rename uses the winner's (identical) dataset.
    """
    folder = synthetic_dataset_dir(n_customers, seed, drift)
    if (folder / schema.MANIFEST_FILE).is_file():
        if not _matches(folder, n_customers, seed, start, end, drift):
            raise ValueError(
                f"{folder}: exists with other generator parameters or generator version "
                f"(now {GENERATOR_VERSION}); remove it or pick another seed"
            )
        return folder
    print(f"generating synthetic dataset {folder.name} ({n_customers:,} customers)", flush=True)
    try:
        generate_dataset(n_customers, seed, folder, start=start, end=end,
                         progress=n_customers >= 100_000, drift=drift)  # fmt: skip
    except (FileExistsError, OSError):
        if not (folder / schema.MANIFEST_FILE).is_file():
            raise
        print(f"{folder.name} was written by another run; using it", file=sys.stderr)
    return folder


def identity_sources_dir(n_customers: int, seed: int) -> Path:
    """Where the synthetic person records of a synthetic dataset live."""
    return config.raw_dir() / f"identity_n{n_customers}_s{seed}"


def ensure_identity_sources(n_customers: int, seed: int) -> Path:
    """The folder of the channels' person records (``features.data.synth_identity``) drawn
    from the synthetic dataset with these parameters; generated once (both if needed)."""
    from features.data import synth_identity
    from features.io import atomic_dir

    folder = identity_sources_dir(n_customers, seed)
    manifest = folder / "manifest.json"
    if manifest.is_file():
        version = json.loads(manifest.read_text()).get("generator_version")
        if version == synth_identity.IDENTITY_GENERATOR_VERSION:
            return folder
        raise ValueError(f"{folder}: written by identity generator {version} (now "
                         f"{synth_identity.IDENTITY_GENERATOR_VERSION}); remove it")  # fmt: skip
    dataset = ensure_synthetic_dataset(n_customers, seed)
    print(f"generating synthetic person records {folder.name}", flush=True)
    try:
        with atomic_dir(folder) as tmp:
            synth_identity.write_identity_files(dataset, tmp, seed)
    except (FileExistsError, OSError):
        if not manifest.is_file():
            raise
        print(f"{folder.name} was written by another run; using it", file=sys.stderr)
    return folder
