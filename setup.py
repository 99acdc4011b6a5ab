"""Build hook: the wheel carries the front-end assets the app serves.

`npm ci` in `src/convoscope/web` installs ECharts and Swagger UI from the npm registry and
copies the served files into `web/vendor/`; this hook runs it when those files are missing, so
that `pip install .` or a built wheel holds the whole product. Everything else is in
pyproject.toml.
"""

import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

WEB = Path(__file__).parent / "src" / "convoscope" / "web"
VENDOR_FILES = ("echarts.min.js", "swagger-ui-bundle.js", "swagger-ui.css")


class BuildWithAssets(build_py):
    def run(self) -> None:
        if not all((WEB / "vendor" / name).exists() for name in VENDOR_FILES):
            subprocess.run(
                ["npm", "ci", "--prefix", str(WEB), "--no-audit", "--no-fund"], check=True
            )
        self.__dict__.pop("data_files", None)  # recompute: vendor/ may be new
        super().run()


setup(cmdclass={"build_py": BuildWithAssets})
