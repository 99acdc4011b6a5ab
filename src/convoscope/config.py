"""Where the engine options come from: the command's option, else its environment variable,
else the config file, else the default.

The config file is TOML, at `$CONVOSCOPE_CONFIG` or `config.toml` in the user's config
directory (e.g. `~/.config/convoscope/config.toml`), with top-level keys named like the
options: `engine = "spark"`, `lake = "/data/lake"`, `spark_master = "spark://host:7077"`,
`spark_remote = "sc://host:15002"`. Unknown keys are an error (a typo would otherwise be
silently ignored).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import platformdirs

from convoscope.engines import LAKE_READERS

CONFIG_ENV = "CONVOSCOPE_CONFIG"
ENV = {
    "engine": "CONVOSCOPE_ENGINE",
    "lake": "CONVOSCOPE_LAKE",
    "spark_master": "CONVOSCOPE_SPARK_MASTER",
    "spark_remote": "CONVOSCOPE_SPARK_REMOTE",
}
ENGINES = tuple(LAKE_READERS)  # the engines `--engine` and the file may name


class ConfigError(ValueError):
    pass


def path() -> Path:
    given = os.environ.get(CONFIG_ENV)
    return (
        Path(given) if given else Path(platformdirs.user_config_dir("convoscope")) / "config.toml"
    )


@cache
def _file(location: Path) -> dict[str, Any]:
    if not location.exists():
        if os.environ.get(CONFIG_ENV):
            raise ConfigError(f"{CONFIG_ENV}={location}: no such file")
        return {}
    import tomllib  # here: only the lake's commands read the file

    try:
        values = tomllib.loads(location.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{location}: not TOML ({exc})") from None
    unknown = sorted(set(values) - set(ENV))
    if unknown:
        raise ConfigError(
            f"{location}: unknown keys {', '.join(unknown)} (known: {', '.join(ENV)})"
        )
    for key, value in values.items():
        if not isinstance(value, str):
            raise ConfigError(f"{location}: {key} must be text")
    if values.get("engine", "duckdb") not in ENGINES:
        raise ConfigError(f"{location}: engine must be one of {', '.join(ENGINES)}")
    return values


def setting(name: str, given: str | None, default: str | None = None) -> str | None:
    """`given` (the option, or its environment variable: Typer reads both), else the config
    file's `name`, else `default`."""
    if given is not None:
        return given
    return _file(path()).get(name, default)  # type: ignore[no-any-return]
