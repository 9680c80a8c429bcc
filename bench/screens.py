"""Screenshots of the web archive at phone and desktop width, for the README (docs/screens/).

    .venv/bin/python bench/screens.py                    # runs `podigest demo` in a temporary home first
    .venv/bin/python bench/screens.py --home ~/.podigest # the archive of an existing PODIGEST_HOME

The site is built by podigest's own code, served by `podigest site serve`'s server on 127.0.0.1 and
photographed by the same headless Chromium the browser tests drive.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", help="an existing PODIGEST_HOME (default: run the demo in a temporary one)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screens"))
    parser.add_argument("--query", default="heat pumps", help="what the search screenshot looks for")
    args = parser.parse_args()
    home = Path(args.home).expanduser() if args.home else Path(tempfile.mkdtemp(prefix="podigest-screens-"))
    os.environ["PODIGEST_HOME"] = str(home)
    if not args.home:
        subprocess.run([sys.executable, "-m", "podigest_dagster.cli", "demo"], check=True, stdout=subprocess.DEVNULL)

    from podigest_dagster import settings
    from podigest_dagster.core.digest.site import build_site, load_archive
    from podigest_dagster.core.digest.site_server import SiteServer, index_search
    from podigest_dagster.core.insights.embedding import Embedder
    from podigest_dagster.warehouse.db import read_connection
    from podigest_dagster_tests.support.browser import headless_chrome, save_screenshot, set_viewport

    settings.use_offline_environment()
    with read_connection(settings.warehouse_path()) as conn:
        archive = load_archive(conn, settings.audio_dir())
    build_site(archive, settings.site_dir())
    day = next((d.date for d in archive.days if d.items), archive.days[0].date)
    pages = {"index": "index.html", "day": f"{day}.html", "search": f"search.html?q={args.query.replace(' ', '+')}"}
    server = SiteServer(settings.site_dir(), search=index_search(settings.search_index_path(), Embedder().embed)).start()
    out = Path(args.out)
    try:
        with headless_chrome(*SIZES["desktop"]) as driver:
            for size, (width, height) in SIZES.items():
                for name, page in pages.items():
                    set_viewport(driver, width, height)
                    driver.get(server.url + page)
                    path = save_screenshot(driver, out / f"{name}-{size}.png", width, height)
                    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  ({width}x{height}, {page})")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
